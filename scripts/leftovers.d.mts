// Types of scripts/leftovers.mjs, for the TypeScript tests that import it.
export interface DirProcess {
  pid: number;
  command: string;
  why: string;
}
export function processesIn(dir: string): DirProcess[];
export function listeningPorts(pids: number[]): number[];
export function portAnswers(port: number, timeoutMs?: number): Promise<boolean>;
export function leftovers(dir: string, ports?: number[]): Promise<string[]>;
