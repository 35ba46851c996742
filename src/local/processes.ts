/**
 * Workload processes. Each job run, application and model deployment is a detached child in its own process
 * group; stopping it signals the whole group (TERM, then KILL after a grace period), and the group is killed
 * again after the leader exits, so nothing a workload spawned outlives it (CML ends the whole engine pod).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname, extname } from "node:path";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. interpreter missing). */
  spawnError?: string;
}

export interface Workload {
  readonly pid: number | undefined;
  readonly exited: Promise<Exit>;
  /** Ends the process group: TERM, KILL after `graceMs`; resolves once the leader is gone. */
  stop(graceMs?: number): Promise<Exit>;
}

export interface SpawnRequest {
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
}

const DEFAULT_GRACE_MS = 3000;

export class Supervisor {
  private readonly live = new Set<Workload>();

  spawn(request: SpawnRequest): Workload {
    mkdirSync(dirname(request.logFile), { recursive: true });
    const fd = openSync(request.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(request.command, [...request.args], {
        cwd: request.cwd,
        env: request.env,
        detached: true,
        stdio: ["ignore", fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const pid = child.pid;
    const exited = new Promise<Exit>((resolve) => {
      child.once("error", (error) => {
        appendLine(request.logFile, `cml-local: could not start ${request.command}: ${error.message}`);
        resolve({ code: null, signal: null, spawnError: error.message });
      });
      child.once("exit", (code, signal) => resolve({ code, signal }));
    }).then((exit) => {
      // The leader is gone; anything it left in its group goes too.
      killGroup(pid, "SIGKILL");
      this.live.delete(workload);
      return exit;
    });
    const workload: Workload = {
      pid,
      exited,
      stop: async (graceMs = DEFAULT_GRACE_MS) => {
        killGroup(pid, "SIGTERM");
        const timer = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      },
    };
    this.live.add(workload);
    return workload;
  }

  async stopAll(graceMs = 1000): Promise<void> {
    await Promise.all([...this.live].map((w) => w.stop(graceMs)));
  }

  get size(): number {
    return this.live.size;
  }
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function appendLine(file: string, line: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, "a");
  try {
    writeSync(fd, `${line}\n`);
  } finally {
    closeSync(fd);
  }
}

let python = "python3";
let resolving: Promise<string> | undefined;

/**
 * Resolves `python3` to the interpreter it runs, once per process: version-manager shims (pyenv) cost
 * over a second per start on a loaded machine, which every job run, build and deployment would pay.
 */
export function resolvePython(): Promise<string> {
  resolving ??= new Promise((resolve) => {
    execFile("python3", ["-c", "import sys; print(sys.executable)"], { timeout: 15_000 }, (error, stdout) => {
      const found = stdout.trim();
      if (!error && found) python = found;
      resolve(python);
    });
  });
  return resolving;
}

export function pythonCommand(): string {
  return python;
}

/**
 * How a script runs, by extension. On CML a runtime's kernel runs every script (Python in PBJ runtimes); the
 * local platform also runs Node and shell scripts directly so cml-lab's workloads can be tried without launchers.
 */
export function interpreterFor(script: string): { command: string; args: string[] } | { error: string } {
  const ext = extname(script).toLowerCase();
  switch (ext) {
    case ".js":
      // A project without package.json "type": "module" still gets ESM syntax right, as on Node >= 22.12.
      return { command: process.execPath, args: ["--experimental-detect-module", script] };
    case ".mjs":
    case ".cjs":
      return { command: process.execPath, args: [script] };
    case ".ts":
    case ".mts":
      if (!supportsTypeStripping())
        return { error: `${script}: running TypeScript needs Node >= 22.6 (this is ${process.version})` };
      return { command: process.execPath, args: ["--experimental-strip-types", script] };
    case ".sh":
      return { command: "bash", args: [script] };
    default:
      // PBJ runtimes hand any script to the Python kernel; -u keeps the log live.
      return { command: python, args: ["-u", script] };
  }
}

function supportsTypeStripping(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 6);
}
