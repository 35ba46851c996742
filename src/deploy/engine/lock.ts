/**
 * One apply at a time per stack and project. Two layers:
 * - a lock file in the project (`.cml-lab/<stack>.lock.json`), which two CI pipelines on different machines both
 *   see; CML uploads never overwrite (FACTS.md §5), so the holder is whoever's token reads back;
 * - a local lock file (exclusive create) for the same machine, which also covers the first apply, before the
 *   project exists.
 * A lock expires when its holder died (same host, process gone) or after its time to live.
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { type CmlClient, unwrap, uploadProjectFile } from "../../client/index.js";
import { UserError } from "../../shared/errors.js";
import { deleteIfPresent } from "../resources/create.js";
import { RECORD_DIR } from "../resources/files.js";
import { sha256 } from "./desired.js";
import { readProjectFileText } from "./live.js";

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

function isStale(h: LockHolder, now = Date.now()): boolean {
  if (Date.parse(h.expiresAt) < now) return true;
  if (h.host !== hostname()) return false;
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
  const localFile = join(
    tmpdir(),
    "cml-lab-locks",
    `${sha256(`${options.apiUrl}|${options.stack}|${options.project}`).slice(7, 39)}.json`,
  );
  await mkdir(join(tmpdir(), "cml-lab-locks"), { recursive: true });
  const waitOrFail = async (holder: LockHolder) => {
    if (Date.now() >= deadline)
      throw new UserError(`stack ${options.stack} is locked: ${describeHolder(holder)}`, {
        notes: ["another apply is running; wait for it, or raise --lock-timeout"],
      });
    options.onWait?.(holder);
    await new Promise((r) => setTimeout(r, poll));
  };

  // Local layer.
  for (;;) {
    try {
      const handle = await open(localFile, "wx");
      await handle.writeFile(JSON.stringify(me));
      await handle.close();
      break;
    } catch (error) {
      if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error;
      const holder = parseHolder(await readFile(localFile, "utf8").catch(() => undefined));
      if (!holder || isStale(holder)) {
        await rm(localFile, { force: true });
        continue;
      }
      await waitOrFail(holder);
    }
  }
  const releaseLocal = async () => {
    const holder = parseHolder(await readFile(localFile, "utf8").catch(() => undefined));
    if (holder?.token === me.token) await rm(localFile, { force: true });
  };

  // Remote layer, when the project exists.
  const projectId = options.projectId;
  if (!projectId) return { release: releaseLocal };
  const path = lockPath(options.stack);
  const deleteRemote = () =>
    deleteIfPresent(() =>
      unwrap(
        options.api.DELETE("/api/v2/projects/{project_id}/files/{path}", {
          params: { path: { project_id: projectId, path } },
        }),
      ),
    );
  try {
    for (;;) {
      const holder = parseHolder(await readProjectFileText(options.api, projectId, path));
      if (holder && holder.token !== me.token && !isStale(holder)) {
        await waitOrFail(holder);
        continue;
      }
      if (holder && holder.token !== me.token) await deleteRemote();
      await uploadProjectFile(options.api, projectId, path, JSON.stringify(me));
      const readBack = parseHolder(await readProjectFileText(options.api, projectId, path));
      if (readBack?.token === me.token) break;
    }
  } catch (error) {
    await releaseLocal();
    throw error;
  }
  return {
    async release() {
      try {
        const holder = parseHolder(await readProjectFileText(options.api, projectId, path));
        if (holder?.token === me.token) await deleteRemote();
      } finally {
        await releaseLocal();
      }
    },
  };
}
