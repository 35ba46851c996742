/** What a CLI writes to; tests pass buffers, bin passes the process streams. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout is an interactive terminal (colour, live progress, prompts). */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Asks a yes/no question on a TTY; absent when there is no way to ask. */
  confirm?: (question: string) => Promise<boolean>;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}
