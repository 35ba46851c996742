/**
 * One apply at a time per stack and project. Two layers:
 * - a lock file in the project (`.cml-lab/<stack>.lock.json`), which two CI pipelines on different machines both
 *   see; CML uploads never overwrite (openapi/FACTS.md §5), so the holder is whoever's token reads back;
 * - a local lock file (exclusive create) for the same machine, which also covers the first apply, before the
 *   project exists.
 * Two machines applying a new stack at once both create the project: `extendTo` takes the remote layer in the
 * project as soon as it exists, and project-race.ts settles which copy stays.
 * A lock expires when its holder died (same host, process gone) or after its time to live.
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type CmlClient, unwrap, uploadProjectFile } from "../../client/index.js";
import { UserError } from "../../shared/errors.js";
import { sha256 } from "./desired.js";
import { deleteIfPresent, mayHaveActed } from "./idempotent.js";
import { RECORD_DIR, readProjectFileText } from "./live.js";

export interface LockHolder {
  token: string;
  host: string;
  pid: number;
  startedAt: string;
  expiresAt: string;
  /** The CI run that holds it, when CI environment variables say so. */
  ciUrl?: string;
}

export interface LockOptions {
  api: CmlClient;
  apiUrl: string;
  stack: string;
  project: string;
  /** The project id when the project exists. */
  projectId?: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  ttlMs?: number;
  /** Called while waiting, with who holds the lock. */
  onWait?: (holder: LockHolder) => void;
  pollMs?: number;
}

export interface Lock {
  /**
   * Takes the remote layer in a project created after the lock was taken. `waited` says another holder had it
   * first, so what this process planned may be out of date.
   */
  extendTo(projectId: string): Promise<{ waited: boolean }>;
  release(): Promise<void>;
}

export function lockPath(stack: string): string {
  return `${RECORD_DIR}/${stack}.lock.json`;
}

export function ciRunUrl(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GITHUB_ACTIONS && env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID)
    return `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
  return env.CI_JOB_URL || env.BUILD_URL || undefined;
}

export function describeHolder(h: LockHolder): string {
  return `held by ${h.host} pid ${h.pid} since ${h.startedAt}${h.ciUrl ? ` (${h.ciUrl})` : ""}`;
}

/** Tokens of the locks this process holds now: one left by this process but not among them was never released. */
const heldHere = new Set<string>();

function isStale(h: LockHolder, now = Date.now()): boolean {
  if (Date.parse(h.expiresAt) < now) return true;
  if (h.host !== hostname()) return false;
  if (h.pid === process.pid) return !heldHere.has(h.token);
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (error) {
    return !(error instanceof Error && "code" in error && error.code === "EPERM");
  }
}

function parseHolder(text: string | undefined): LockHolder | undefined {
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (
      typeof v === "object" &&
      v !== null &&
      "token" in v &&
      typeof v.token === "string" &&
      "host" in v &&
      typeof v.host === "string" &&
      "pid" in v &&
      typeof v.pid === "number" &&
      "startedAt" in v &&
      typeof v.startedAt === "string" &&
      "expiresAt" in v &&
      typeof v.expiresAt === "string"
    ) {
      const ciUrl = "ciUrl" in v && typeof v.ciUrl === "string" ? v.ciUrl : undefined;
      return { token: v.token, host: v.host, pid: v.pid, startedAt: v.startedAt, expiresAt: v.expiresAt, ciUrl };
    }
  } catch {}
  // Unreadable: treat as expired so a damaged file never blocks forever.
  return { token: "", host: "?", pid: 0, startedAt: "?", expiresAt: new Date(0).toISOString() };
}

export async function acquireLock(options: LockOptions): Promise<Lock> {
  const me: LockHolder = {
    token: randomUUID(),
    host: hostname(),
    pid: process.pid,
    startedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + (options.ttlMs ?? 60 * 60_000)).toISOString(),
    ...(ciRunUrl(options.env) ? { ciUrl: ciRunUrl(options.env) } : {}),
  };
  const deadline = Date.now() + options.timeoutMs;
  const poll = options.pollMs ?? 1_000;
  // CML_LAB_LOCK_DIR: where the same-machine layer lives (tests use one per simulated machine).
  const localDir = options.env.CML_LAB_LOCK_DIR || join(tmpdir(), "cml-lab-locks");
  const localFile = join(
    localDir,
    `${sha256(`${options.apiUrl}|${options.stack}|${options.project}`).slice(7, 39)}.json`,
  );
  await mkdir(localDir, { recursive: true });
  let waited = false;
  const waitOrFail = async (holder: LockHolder) => {
    if (Date.now() >= deadline)
      throw new UserError(`stack ${options.stack} is locked: ${describeHolder(holder)}`, {
        notes: ["another apply is running; wait for it, or raise --lock-timeout"],
      });
    waited = true;
    options.onWait?.(holder);
    await sleep(poll);
  };

  // Local layer.
  const takeLocal = async () => {
    for (;;) {
      try {
        const handle = await open(localFile, "wx");
        await handle.writeFile(JSON.stringify(me));
        await handle.close();
        return;
      } catch (error) {
        if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error;
        const text = await readFile(localFile, "utf8").catch(() => undefined);
        if (text === "" && Date.now() - ((await stat(localFile).catch(() => undefined))?.mtimeMs ?? 0) < 10_000) {
          // Just created by another acquirer that has not written its holder yet.
          await sleep(20);
          continue;
        }
        const holder = parseHolder(text);
        if (!holder || isStale(holder)) {
          await rm(localFile, { force: true });
          continue;
        }
        await waitOrFail(holder);
      }
    }
  };
  // Registered before the file exists: between its exclusive create and its write, the file names nobody.
  heldHere.add(me.token);
  try {
    await takeLocal();
  } catch (error) {
    heldHere.delete(me.token);
    throw error;
  }
  const releaseLocal = async () => {
    heldHere.delete(me.token);
    const holder = parseHolder(await readFile(localFile, "utf8").catch(() => undefined));
    if (holder?.token === me.token) await rm(localFile, { force: true });
  };

  let remoteRelease: (() => Promise<void>) | undefined;
  let coveredProject: string | undefined;
  const takeRemote = async (projectId: string) => {
    const path = lockPath(options.stack);
    const deleteRemote = () =>
      deleteIfPresent(() =>
        unwrap(
          options.api.DELETE("/api/v2/projects/{project_id}/files/{path}", {
            params: { path: { project_id: projectId, path } },
          }),
        ),
      );
    for (;;) {
      try {
        const holder = parseHolder(await readProjectFileText(options.api, projectId, path));
        // Ours: the upload landed (perhaps with its answer lost), or won a race of two uploads.
        if (holder?.token === me.token) break;
        if (holder && !isStale(holder)) {
          await waitOrFail(holder);
          continue;
        }
        if (holder) await deleteRemote();
        if (Date.now() >= deadline)
          throw new Error(`bug: the stack lock ${path} never read back after upload in project ${projectId}`);
        await uploadProjectFile(options.api, projectId, path, JSON.stringify(me));
      } catch (error) {
        // The lock's own calls are not idempotent POSTs the client may retry: a throttled or failed one is
        // retried here, from a fresh read, within the lock timeout.
        if (!mayHaveActed(error) || Date.now() >= deadline) throw error;
        await sleep(Math.min(poll, 250));
      }
    }
    coveredProject = projectId;
    remoteRelease = async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          const holder = parseHolder(await readProjectFileText(options.api, projectId, path));
          if (holder?.token === me.token) await deleteRemote();
          return;
        } catch (error) {
          if (!mayHaveActed(error) || attempt >= 5)
            throw new UserError(
              `could not release the stack lock ${path} in the project: ${error instanceof Error ? error.message : String(error)}`,
              { notes: [`it expires at ${me.expiresAt}; or delete ${path} from the project`] },
            );
          await sleep(200 * attempt);
        }
      }
    };
  };
  const lock: Lock = {
    async extendTo(projectId) {
      if (coveredProject === projectId) return { waited: false };
      if (coveredProject) throw new Error(`bug: the stack lock already covers project ${coveredProject}`);
      waited = false;
      await takeRemote(projectId);
      return { waited };
    },
    async release() {
      try {
        await remoteRelease?.();
      } finally {
        await releaseLocal();
      }
    },
  };
  // Remote layer, when the project exists.
  if (options.projectId) {
    try {
      await takeRemote(options.projectId);
    } catch (error) {
      await releaseLocal();
      throw error;
    }
  }
  return lock;
}
