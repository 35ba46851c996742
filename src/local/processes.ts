/**
 * Workload processes. Each job run, application, build check and model deployment is a detached child in its own
 * process group; stopping it signals every process of the workload (TERM, then KILL after a grace period), and
 * they are killed again after the leader exits, so nothing a workload spawned outlives it (CML ends the whole
 * engine pod).
 *
 * "Every process of the workload" is not just the group: a child that calls setsid() (daemons, `nohup setsid`)
 * leaves it, and one that traps SIGTERM/SIGHUP then outlives everything sent to the group. The robust way to
 * track a tree on Linux is a cgroup, but cgroup v2 is read-only here (containers mount it so; this one has v1
 * hierarchies only root may write) and a developer's server runs unprivileged, and PR_SET_CHILD_SUBREAPER is not
 * reachable from Node. So each workload carries a marker variable, `CML_LOCAL_WORKLOAD=<data dir scope>:<n>`,
 * that every descendant inherits through setsid and double forks, and the supervisor finds a workload's
 * processes in /proc by: its process group, the marker in /proc/<pid>/environ (the environment a process was
 * started with, which it cannot rewrite for its children's sake after the fact), and parentage from either.
 * A process would have to both leave the group and start its children with a scrubbed environment (`env -i`)
 * before they are found to escape; that is deliberate evasion, not what workloads do. The marker also lets a
 * new server, or `local down` after a crash, find workloads a dead server left, without any record of pids.
 * Where /proc is missing (macOS), only the process group is signalled.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";

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

/** The variable every workload process and its descendants carry (see the comment at the top). */
export const WORKLOAD_MARKER = "CML_LOCAL_WORKLOAD";

const DEFAULT_GRACE_MS = 3000;

/** The marker prefix of one data directory's workloads: two platforms on one machine never touch each other's. */
export function workloadScope(dataDir: string): string {
  return createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 16);
}

export class Supervisor {
  private readonly live = new Set<Workload>();
  private spawned = 0;

  constructor(private readonly scope: string) {}

  spawn(request: SpawnRequest): Workload {
    mkdirSync(dirname(request.logFile), { recursive: true });
    const marker = `${this.scope}:${process.pid}.${++this.spawned}`;
    const fd = openSync(request.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(request.command, [...request.args], {
        cwd: request.cwd,
        env: { ...request.env, [WORKLOAD_MARKER]: marker },
        detached: true,
        stdio: ["ignore", fd, fd],
      });
    } catch (error) {
      // spawn() throws synchronously on values no process can take (a NUL byte in the environment, say). The API
      // refuses those, but a value from an older state.json must fail this workload, not end the server.
      return this.failed(request, error);
    } finally {
      closeSync(fd);
    }
    const pid = child.pid;
    const exited = new Promise<Exit>((resolveExit) => {
      child.once("error", (error) => {
        appendLine(request.logFile, `cml-local: could not start ${request.command}: ${safeMessage(error)}`);
        resolveExit({ code: null, signal: null, spawnError: safeMessage(error) });
      });
      child.once("exit", (code, signal) => resolveExit({ code, signal }));
    }).then((exit) => {
      // The leader is gone; anything it left behind, in its group or escaped from it, goes too.
      killWorkload(pid, (m) => m === marker);
      this.live.delete(workload);
      return exit;
    });
    const workload: Workload = {
      pid,
      exited,
      stop: async (graceMs = DEFAULT_GRACE_MS) => {
        signalWorkload(pid, (m) => m === marker, "SIGTERM");
        const timer = setTimeout(() => killWorkload(pid, (m) => m === marker), graceMs);
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

  private failed(request: SpawnRequest, error: unknown): Workload {
    const message = safeMessage(error);
    appendLine(request.logFile, `cml-local: could not start ${request.command}: ${message}`);
    const exited = Promise.resolve<Exit>({ code: null, signal: null, spawnError: message });
    return { pid: undefined, exited, stop: () => exited };
  }
}

/**
 * Node's argument errors quote the offending value (an environment value, possibly a secret): name the error
 * instead. Other spawn errors (ENOENT, E2BIG, EACCES) carry only the command.
 */
function safeMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = "code" in error && typeof error.code === "string" ? error.code : "";
  if (code.startsWith("ERR_INVALID_ARG")) return `${code}: a value in its environment, arguments or path is invalid`;
  return error.message;
}

/**
 * Ends every process a dead server of this data directory left: the process groups it recorded and everything
 * carrying its marker. Used at start and by `local down`; returns how many processes it found.
 */
export function endLeftoverWorkloads(dataDir: string, recordedGroups: Iterable<number> = []): number {
  const prefix = `${workloadScope(dataDir)}:`;
  let found = 0;
  for (const pgid of recordedGroups) found += killWorkload(pgid, () => false);
  return found + killWorkload(undefined, (m) => m.startsWith(prefix));
}

/** Sends `signal` to the leader's group and every process of the workload found in /proc. */
function signalWorkload(leader: number | undefined, marked: (marker: string) => boolean, signal: NodeJS.Signals): void {
  killGroup(leader, signal);
  for (const pid of workloadPids(leader, marked)) signalPid(pid, signal);
}

/**
 * SIGKILLs every process of the workload. They are stopped first, round by round until no new one appears, so a
 * process forking while it is being killed cannot leave a child behind; then all are killed at once.
 */
function killWorkload(leader: number | undefined, marked: (marker: string) => boolean): number {
  const stopped = new Set<number>();
  for (let round = 0; round < 20; round++) {
    const fresh = workloadPids(leader, marked).filter((pid) => !stopped.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      stopped.add(pid);
      signalPid(pid, "SIGSTOP");
    }
  }
  killGroup(leader, "SIGKILL");
  for (const pid of stopped) signalPid(pid, "SIGKILL");
  return stopped.size;
}

interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
}

/** Live (non-zombie) processes in the leader's group, carrying a matching marker, or descending from those. */
export function workloadPids(leader: number | undefined, marked: (marker: string) => boolean): number[] {
  const all = procTable();
  const chosen = new Set<number>();
  for (const info of all) {
    if (info.pid === process.pid) continue;
    if ((leader !== undefined && info.pgid === leader) || markerMatches(info.pid, marked)) chosen.add(info.pid);
  }
  // Descendants of a chosen process are the workload's too (a child started with a scrubbed environment).
  for (let grew = chosen.size > 0; grew; ) {
    grew = false;
    for (const info of all) {
      if (!chosen.has(info.pid) && chosen.has(info.ppid) && info.pid !== process.pid) {
        chosen.add(info.pid);
        grew = true;
      }
    }
  }
  return [...chosen];
}

function procTable(): ProcInfo[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const table: ProcInfo[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    const fields = statFields(stat);
    if (fields[0] === "Z" || fields[0] === "X") continue;
    table.push({ pid: Number(entry), ppid: Number(fields[1]), pgid: Number(fields[2]) });
  }
  return table;
}

/** The fields of /proc/PID/stat after the command name (which may contain spaces and parentheses). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** A process that has exited but is not yet reaped still answers kill(0); it is no longer running. */
export function isZombie(pid: number): boolean {
  try {
    const state = statFields(readFileSync(`/proc/${pid}/stat`, "utf8"))[0];
    return state === "Z" || state === "X";
  } catch {
    return false; // no /proc (macOS), or it is gone
  }
}

function markerMatches(pid: number, marked: (marker: string) => boolean): boolean {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, "latin1");
  } catch {
    return false; // another user's process, or gone
  }
  const key = `${WORKLOAD_MARKER}=`;
  for (const entry of environ.split("\0")) if (entry.startsWith(key)) return marked(entry.slice(key.length));
  return false;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: gone already.
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
