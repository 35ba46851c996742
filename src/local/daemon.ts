/**
 * The background server behind `deploy local up|status|down|logs`: start it detached (idempotently), find it
 * through `<dataDir>/server.json`, stop it, and read workload logs from the data directory.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, fchmodSync, openSync } from "node:fs";
import { chmod, mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { discardBody } from "../shared/discard-body.js";
import { UserError } from "../shared/errors.js";
import { pollUntil } from "../shared/wait.js";
import { appLogFile } from "./applications.js";
import { buildLogFile, deploymentLogFile } from "./models.js";
import { endLeftoverWorkloads, isZombie } from "./processes.js";
import { runLogFile } from "./runs.js";
import { readServerRecord, removeServerRecord, type ServerRecord } from "./server-record.js";
import { isRecord } from "./spec.js";
import { StateStore } from "./state.js";

export interface UpResult {
  record: ServerRecord;
  alreadyRunning: boolean;
  logFile: string;
}

const START_TIMEOUT_MS = 20_000;

/** The running server of this data dir: its record exists, its pid lives and its API answers. */
export async function runningServer(dataDir: string): Promise<ServerRecord | undefined> {
  const record = await readServerRecord(dataDir);
  if (!record || record === "invalid" || !processAlive(record.pid)) return undefined;
  try {
    const response = await fetch(`${record.apiUrl}/api/v2/runtimes`, { signal: AbortSignal.timeout(2000) });
    discardBody(response);
    return record;
  } catch {
    return undefined;
  }
}

export async function localUp(options: { dataDir: string; port?: number }): Promise<UpResult> {
  const dataDir = resolve(options.dataDir);
  const logFile = join(dataDir, "server.log");
  const running = await runningServer(dataDir);
  if (running) return { record: running, alreadyRunning: true, logFile };
  await removeServerRecord(dataDir);
  // Only this user may read the data directory and the server's log (the server makes the same check itself).
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const fd = openSync(logFile, "a", 0o600);
  fchmodSync(fd, 0o600);
  let pid: number | undefined;
  try {
    const child = spawn(process.execPath, [serveEntry(), "--data-dir", dataDir, "--port", String(options.port ?? 0)], {
      detached: true,
      stdio: ["ignore", fd, fd],
      cwd: dataDir,
    });
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  const record = await pollUntil(() => runningServer(dataDir), {
    what: "the local platform to start",
    until: (found) => found !== undefined && found.pid === pid,
    failWhen: () => (pid === undefined || !processAlive(pid) ? "the server exited" : undefined),
    timeoutMs: START_TIMEOUT_MS,
    intervalMs: 100,
  }).catch(() => undefined);
  if (record) return { record, alreadyRunning: false, logFile };
  throw new UserError(`the local platform did not start (see ${logFile})`, {
    notes: ["a port given with --port may be in use; try without --port"],
  });
}

/**
 * Stops the server, then ends whatever workload processes of this data directory are still alive: those of a
 * server that crashed (no record, or a dead pid) or that had to be SIGKILLed, found by their marker.
 */
export async function localDown(dataDir: string): Promise<{ stopped: boolean; pid?: number; leftovers: number }> {
  const dir = resolve(dataDir);
  const record = await readServerRecord(dir);
  const live = record && record !== "invalid" && processAlive(record.pid) ? record : undefined;
  if (live) {
    process.kill(live.pid, "SIGTERM");
    // Until it is gone from the process table, not only exited: its parent (this process, when it started it)
    // reaps it within milliseconds, and a caller that checks the pid afterwards must find nothing.
    const exited = await pollUntil(async () => processExists(live.pid), {
      what: "the local platform to stop",
      until: (exists) => !exists,
      timeoutMs: 15_000,
      intervalMs: 50,
    }).then(
      () => true,
      () => false,
    );
    if (!exited && processAlive(live.pid)) process.kill(live.pid, "SIGKILL");
  }
  await removeServerRecord(dir);
  const leftovers = endLeftoverWorkloads(dir);
  return live ? { stopped: true, pid: live.pid, leftovers } : { stopped: false, leftovers };
}

export type LogKind = "job" | "app" | "model";

/** The latest log of a job (its newest run), an application, or a model (its newest deployment, else build). */
export async function localLogs(dataDir: string, kind: LogKind, name: string): Promise<string> {
  const dir = resolve(dataDir);
  const store = await StateStore.open(dir);
  const state = store.state;
  let file: string | undefined;
  if (kind === "job") {
    const job = Object.values(state.jobs).find((r) => r.job.name === name);
    if (!job) throw new UserError(`no job named ${name} in ${dir}`);
    const runs = Object.values(state.runs)
      .filter((r) => r.job_id === job.job.id)
      .sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? ""));
    const latest = runs[0];
    if (!latest) throw new UserError(`job ${name} has not run yet`, { notes: ["start a run first"] });
    file = runLogFile(dir, latest.id ?? "");
  } else if (kind === "app") {
    const app = Object.values(state.applications).find((r) => r.app.name === name || r.app.subdomain === name);
    if (!app) throw new UserError(`no application named ${name} in ${dir}`);
    file = appLogFile(dir, app.app.id ?? "");
  } else {
    const model = Object.values(state.models).find((r) => r.model.name === name);
    if (!model) throw new UserError(`no model named ${name} in ${dir}`);
    const newest = <T extends { created_at?: string }>(items: T[]) =>
      items.sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? ""))[0];
    const deployment = newest(Object.values(state.deployments).filter((d) => d.model_id === model.model.id));
    const build = newest(
      Object.values(state.builds)
        .map((r) => r.build)
        .filter((b) => b.model_id === model.model.id),
    );
    if (deployment) file = deploymentLogFile(dir, deployment.id ?? "");
    else if (build) file = buildLogFile(dir, build.id ?? "");
    else throw new UserError(`model ${name} has no build yet`);
  }
  return existsSync(file) ? readFile(file, "utf8") : "";
}

/** Running: it exists and has not exited (an exited child its parent has not reaped yet is a zombie). */
export function processAlive(pid: number): boolean {
  return processExists(pid) && !isZombie(pid);
}

/** It still has a process table entry, zombie or not: kill(0) answers. */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isRecord(error) && error.code === "EPERM";
  }
}

/** dist/local/serve.js: next to this file when compiled; from src/ (tests) the built copy. */
function serveEntry(): string {
  const sibling = fileURLToPath(new URL("./serve.js", import.meta.url));
  if (existsSync(sibling)) return sibling;
  const built = fileURLToPath(new URL("../../dist/local/serve.js", import.meta.url));
  if (existsSync(built)) return built;
  throw new UserError("cml-lab is not built (dist/local/serve.js is missing)", { notes: ["run `npm run build`"] });
}
