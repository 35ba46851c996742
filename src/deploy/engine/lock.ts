/**
 * One apply at a time per stack and project. Two layers:
 * - a lock file in the project (`.cml-lab/<stack>.lock.json`), which two CI pipelines on different machines both
 *   see; CML uploads never overwrite (openapi/FACTS.md §5), so the holder is whoever's token reads back;
 * - a local lock file (exclusive create) for the same machine, which also covers the first apply, before the
 *   project exists.
 * Two machines applying a new stack at once both create the project: `extendTo` takes the remote layer in the
 * project as soon as it exists, and project-race.ts settles which copy stays.
 * A lock expires when its holder died (same host, process gone) or after its time to live.
 * Across machines a pid says nothing, so the holder also beats: every `heartbeatMs` it uploads a new beat file
 * next to the lock (uploads never overwrite, so each beat is a new name and the old one is deleted after). A waiter
 * that sees the same beat for more than 3 beats of its own clock (no clock skew involved) takes the lock over.
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type CmlClient, isApiError, unwrap, uploadProjectFile } from "../../client/index.js";
import { errorMessage, UserError } from "../../shared/errors.js";
import { parseShaped, shapeOf } from "../../shared/json-shape.js";
import { backoffMs, type RetryPolicy, retry } from "../../shared/retry.js";
import { sha256 } from "./desired.js";
import { deleteIfPresent, mayHaveActed } from "./idempotent.js";
import { RECORD_DIR, readProjectFileText } from "./live.js";

/** Releasing: four more tries over a few seconds; a lock left behind costs the next apply its whole TTL. */
const RELEASE_RETRY: RetryPolicy = { retries: 4, minDelayMs: 200, maxDelayMs: 1_600, maxElapsedMs: 10_000 };
/**
 * Taking: failed lock calls in a row before giving up. --lock-timeout is how long to wait for another holder, not
 * for an unreachable workspace: without this bound a workspace that stopped answering held apply for the whole
 * lock timeout (300 s by default) before it said anything.
 */
const ACQUIRE_RETRY: Pick<RetryPolicy, "retries" | "minDelayMs" | "maxDelayMs"> = {
  retries: 5,
  minDelayMs: 250,
  maxDelayMs: 2_000,
};

export interface LockHolder {
  token: string;
  host: string;
  pid: number;
  startedAt: string;
  expiresAt: string;
  /** The CI run that holds it, when CI environment variables say so. */
  ciUrl?: string;
  /** How often the holder beats; absent in locks written before heartbeats (those only expire). */
  heartbeatMs?: number;
}

/** A waiter's memory of the holder's last beat: which beat it saw and when (by the waiter's clock) it first did. */
export interface BeatSeen {
  token: string;
  beat: number;
  since: number;
}

export const DEFAULT_HEARTBEAT_MS = 10_000;
/** Beats a holder may miss before it counts as gone: room for a throttled upload or two. */
export const MISSED_BEATS = 3;

export interface LockOptions<T = unknown> {
  api: CmlClient;
  apiUrl: string;
  stack: string;
  project: string;
  /** The project id when the project exists. */
  projectId?: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  ttlMs?: number;
  /** Called while waiting, with who holds the lock and how to break it by hand. */
  onWait?: (holder: LockHolder, breakHint: string) => void;
  /** Called when a lock whose holder is provably gone is taken over, with why it is gone. */
  onTakeover?: (holder: LockHolder, reason: string) => void;
  pollMs?: number;
  /** When the project exists: a read to make under the lock (see Lock.extendTo), returned as the lock's `read`. */
  readUnder?: () => Promise<T>;
}

export interface Lock {
  /**
   * Takes the remote layer in a project created after the lock was taken. `waited` says another holder had it
   * first, so what this process planned may be out of date.
   */
  extendTo(projectId: string): Promise<{ waited: boolean }>;
  /**
   * The same, with `readUnder`, a read that must see everything an earlier holder did (what to plan from). It starts
   * as soon as this process's lock file has landed, alongside the read-back that finds it ours: uploads never
   * overwrite, so a file that landed under the lock's name while no other was there, and reads back as ours, means
   * every earlier holder had released (and its writes were done) before the read started. `read` is that read, or
   * undefined when the lock was found ours without an upload seen to land (then read after).
   */
  extendTo<T>(projectId: string, readUnder: () => Promise<T>): Promise<{ waited: boolean; read?: Promise<T> }>;
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

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && "code" in error && error.code === "EPERM";
  }
}

export interface StaleContext {
  now: number;
  /** The host this process runs on (as the lock names hosts). */
  host: string;
  /** The holder's last beat as this waiter has watched it, when the lock is remote and beats. */
  seen?: BeatSeen;
  alive?: (pid: number) => boolean;
}

/**
 * Why the holder is provably gone, or undefined while it may be alive. The takeover rule:
 * past its time to live; on this host, its process is gone (or is this process but not holding it);
 * from any host, its beat has not moved for MISSED_BEATS beats of the waiter's clock.
 */
export function staleReason(h: LockHolder, ctx: StaleContext): string | undefined {
  if (Date.parse(h.expiresAt) < ctx.now) return `it expired at ${h.expiresAt}`;
  if (h.host === ctx.host) {
    if (h.pid === process.pid && !heldHere.has(h.token)) return `this process (pid ${h.pid}) no longer holds it`;
    if (!(ctx.alive ?? pidAlive)(h.pid)) return `process ${h.pid} on this host is gone`;
  }
  if (h.heartbeatMs && ctx.seen?.token === h.token) {
    const quiet = ctx.now - ctx.seen.since;
    if (quiet > MISSED_BEATS * h.heartbeatMs)
      return `its heartbeat stopped (no beat for ${Math.round(quiet / 1000)}s, more than ${MISSED_BEATS} × ${h.heartbeatMs / 1000}s)`;
  }
  return undefined;
}

/** The beat files of a holder: `<stack>.lock.beat-<token>-<n>`, in the record directory. */
function beatPrefix(stack: string, token: string): string {
  return `${stack}.lock.beat-${token}-`;
}

/**
 * A lock record as the project holds it (written by any version of acquireLock). The optional fields are read
 * only when they have their type: a lock from before heartbeats has none, and is still a lock.
 */
const isHolderRecord = shapeOf<Omit<LockHolder, "ciUrl" | "heartbeatMs"> & { ciUrl?: unknown; heartbeatMs?: unknown }>({
  type: "object",
  required: ["token", "host", "pid", "startedAt", "expiresAt"],
  properties: {
    token: { type: "string" },
    host: { type: "string" },
    pid: { type: "number" },
    startedAt: { type: "string" },
    expiresAt: { type: "string" },
  },
});

function parseHolder(text: string | undefined): LockHolder | undefined {
  if (!text) return undefined;
  const v = parseShaped(text, isHolderRecord);
  if (v) {
    const ciUrl = typeof v.ciUrl === "string" ? v.ciUrl : undefined;
    const heartbeatMs = typeof v.heartbeatMs === "number" ? v.heartbeatMs : undefined;
    return {
      token: v.token,
      host: v.host,
      pid: v.pid,
      startedAt: v.startedAt,
      expiresAt: v.expiresAt,
      ...(ciUrl ? { ciUrl } : {}),
      ...(heartbeatMs ? { heartbeatMs } : {}),
    };
  }
  // Unreadable: treat as expired so a damaged file never blocks forever.
  return { token: "", host: "?", pid: 0, startedAt: "?", expiresAt: new Date(0).toISOString() };
}

/** What both layers share while taking the lock: who takes it, until when it waits, and what it says meanwhile. */
interface Acquiring {
  me: LockHolder & { heartbeatMs: number };
  host: string;
  deadline: number;
  /** Waits one poll for `holder`, or throws the "is locked" error once the lock timeout is spent. */
  waitOrFail(holder: LockHolder, breakHint: string): Promise<void>;
  takeOver(holder: LockHolder, reason: string): void;
}

export async function acquireLock<T = unknown>(options: LockOptions<T>): Promise<Lock & { read?: Promise<T> }> {
  // CML_LAB_LOCK_HOST / CML_LAB_LOCK_HEARTBEAT_MS: tests simulate machines and beat fast.
  const host = options.env.CML_LAB_LOCK_HOST || hostname();
  const heartbeatMs = Number(options.env.CML_LAB_LOCK_HEARTBEAT_MS) || DEFAULT_HEARTBEAT_MS;
  const ciUrl = ciRunUrl(options.env);
  const deadline = Date.now() + options.timeoutMs;
  const poll = options.pollMs ?? 1_000;
  let waited = false;
  const acquiring: Acquiring = {
    me: {
      token: randomUUID(),
      host,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + (options.ttlMs ?? 60 * 60_000)).toISOString(),
      ...(ciUrl ? { ciUrl } : {}),
      heartbeatMs,
    },
    host,
    deadline,
    async waitOrFail(holder, breakHint) {
      if (Date.now() >= deadline)
        throw new UserError(`stack ${options.stack} is locked: ${describeHolder(holder)}`, {
          notes: ["another apply is running; wait for it, or raise --lock-timeout", breakHint],
        });
      waited = true;
      options.onWait?.(holder, breakHint);
      await sleep(poll);
    },
    takeOver: (holder, reason) => options.onTakeover?.(holder, reason),
  };

  // CML_LAB_LOCK_DIR: where the same-machine layer lives (tests use one per simulated machine).
  const localDir = options.env.CML_LAB_LOCK_DIR || join(tmpdir(), "cml-lab-locks");
  const localFile = join(
    localDir,
    `${sha256(`${options.apiUrl}|${options.stack}|${options.project}`).slice(7, 39)}.json`,
  );
  const releaseLocal = await takeLocalLock(acquiring, localFile);

  let remote: { projectId: string; release: () => Promise<void> } | undefined;
  const takeRemote = async <R>(projectId: string, readUnder?: () => Promise<R>) => {
    const taken = await takeRemoteLock(options, acquiring, projectId, readUnder);
    remote = { projectId, release: taken.release };
    // In an object: an async function that returned the read itself would wait for it.
    return { read: taken.read };
  };
  const lock: Lock = {
    async extendTo<R>(projectId: string, readUnder?: () => Promise<R>) {
      if (remote?.projectId === projectId) return { waited: false };
      if (remote) throw new Error(`bug: the stack lock already covers project ${remote.projectId}`);
      waited = false;
      const { read } = await takeRemote(projectId, readUnder);
      return { waited, ...(read ? { read } : {}) };
    },
    async release() {
      try {
        await remote?.release();
      } finally {
        await releaseLocal();
      }
    },
  };
  // Remote layer, when the project exists.
  if (options.projectId) {
    try {
      const { read } = await takeRemote(options.projectId, options.readUnder);
      return read ? { ...lock, read } : lock;
    } catch (error) {
      await releaseLocal();
      throw error;
    }
  }
  return lock;
}

/** The same-machine layer: an exclusive create of `file`. Resolves to its release. */
async function takeLocalLock(a: Acquiring, file: string): Promise<() => Promise<void>> {
  await mkdir(dirname(file), { recursive: true });
  const hint = `if its holder is gone, break it by hand: rm ${file}`;
  // Registered before the file exists: between its exclusive create and its write, the file names nobody.
  heldHere.add(a.me.token);
  try {
    for (;;) {
      try {
        const handle = await open(file, "wx");
        await handle.writeFile(JSON.stringify(a.me));
        await handle.close();
        break;
      } catch (error) {
        if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error;
        const text = await readFile(file, "utf8").catch(() => undefined);
        if (text === "" && Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? 0) < 10_000) {
          // Just created by another acquirer that has not written its holder yet.
          await sleep(20);
          continue;
        }
        const holder = parseHolder(text);
        const reason = holder && staleReason(holder, { now: Date.now(), host: a.host });
        if (!holder || reason) {
          if (holder && reason) a.takeOver(holder, reason);
          await rm(file, { force: true });
          continue;
        }
        await a.waitOrFail(holder, hint);
      }
    }
  } catch (error) {
    heldHere.delete(a.me.token);
    throw error;
  }
  return async () => {
    heldHere.delete(a.me.token);
    const holder = parseHolder(await readFile(file, "utf8").catch(() => undefined));
    if (holder?.token === a.me.token) await rm(file, { force: true });
  };
}

/** The lock's files in one project: the lock record and its holders' beat files. */
function projectLockFiles(api: CmlClient, projectId: string, stack: string) {
  const path = lockPath(stack);
  const deleteFile = (file: string) =>
    deleteIfPresent(() =>
      unwrap(
        api.DELETE("/api/v2/projects/{project_id}/files/{path}", {
          params: { path: { project_id: projectId, path: file } },
        }),
      ),
    );
  const beatFile = (token: string, n: number) => `${RECORD_DIR}/${beatPrefix(stack, token)}${n}`;
  /** The numbers of a holder's beat files, newest last. */
  const beatsOf = async (token: string): Promise<number[]> => {
    const prefix = beatPrefix(stack, token);
    const listed = await unwrap(
      api.GET("/api/v2/projects/{project_id}/files/{path}", {
        params: { path: { project_id: projectId, path: RECORD_DIR } },
      }),
    ).catch((error: unknown) => {
      if (isApiError(error) && error.isNotFound) return { files: [] };
      throw error;
    });
    return (listed.files ?? [])
      .map((f) => (f.path ?? "").split("/").pop() ?? "")
      .filter((name) => name.startsWith(prefix))
      .map((name) => Number(name.slice(prefix.length)))
      .filter((n) => Number.isInteger(n))
      .sort((a, b) => a - b);
  };
  return {
    path,
    holder: async () => parseHolder(await readProjectFileText(api, projectId, path)),
    write: (holder: LockHolder) => uploadProjectFile(api, projectId, path, JSON.stringify(holder)),
    remove: () => deleteFile(path),
    beatsOf,
    uploadBeat: (token: string, n: number) => uploadProjectFile(api, projectId, beatFile(token, n), ""),
    removeBeat: (token: string, n: number) => deleteFile(beatFile(token, n)),
    removeBeats: async (token: string) => {
      for (const n of await beatsOf(token)) await deleteFile(beatFile(token, n));
    },
  };
}
type ProjectLockFiles = ReturnType<typeof projectLockFiles>;

/** The cross-machine layer: this holder's record uploaded into the project and read back as ours. */
async function takeRemoteLock<R>(
  options: LockOptions<unknown>,
  a: Acquiring,
  projectId: string,
  readUnder?: () => Promise<R>,
): Promise<{ read?: Promise<R>; release: () => Promise<void> }> {
  const files = projectLockFiles(options.api, projectId, options.stack);
  const hint =
    `if its holder is gone, break it by hand: delete ${files.path} from the project, e.g. ` +
    `curl -X DELETE -H "Authorization: Bearer $CML_API_KEY" "${options.apiUrl.replace(/\/+$/, "")}/api/v2/projects/${projectId}/files/${encodeURIComponent(files.path)}"`;
  let seen: BeatSeen | undefined;
  // [speed, issue 20] The read under the lock, started when our upload landed (Lock.extendTo says why that is safe).
  let read: Promise<R> | undefined;
  let failures = 0;
  for (;;) {
    try {
      const holder = await files.holder();
      // Ours: the upload landed (perhaps with its answer lost), or won a race of two uploads.
      if (holder?.token === a.me.token) break;
      // Not ours (yet): a read started before this one may have missed another holder's writes.
      read = undefined;
      if (holder?.heartbeatMs) {
        const beat = (await files.beatsOf(holder.token)).at(-1) ?? -1;
        if (seen?.token !== holder.token || seen.beat !== beat) seen = { token: holder.token, beat, since: Date.now() };
      }
      const reason = holder && staleReason(holder, { now: Date.now(), host: a.host, ...(seen ? { seen } : {}) });
      if (holder && !reason) {
        failures = 0;
        await a.waitOrFail(holder, hint);
        continue;
      }
      if (holder && reason) {
        a.takeOver(holder, reason);
        await files.remove();
        await files.removeBeats(holder.token);
      }
      if (Date.now() >= a.deadline)
        throw new Error(`bug: the stack lock ${files.path} never read back after upload in project ${projectId}`);
      await files.write(a.me);
      read = readUnder?.();
      // Awaited by the caller once the lock reads back as ours; a read that is not used never goes unhandled.
      read?.catch(() => undefined);
    } catch (error) {
      // The lock's upload is a POST the client does not retry (and a read may fail past the client's retries): a
      // throttled or failed call is retried here, from a fresh read, a bounded number of times in a row.
      failures++;
      if (!mayHaveActed(error) || failures > ACQUIRE_RETRY.retries || Date.now() >= a.deadline) throw error;
      await sleep(Math.max(50, backoffMs(failures - 1, ACQUIRE_RETRY)));
      continue;
    }
    failures = 0;
  }
  const heartbeat = startHeartbeat(files, a.me.token, a.me.heartbeatMs);
  const release = async () => {
    await heartbeat.stop();
    // [speed, issue 20] The beat files and the lock file go at once: two round trips after the apply instead of
    // four (list, delete beat, read lock, delete lock). The beats carry this holder's token, which no later holder
    // uses, so a waiter that takes the lock the moment its file is gone is not confused by a beat still there.
    const beatsGone = heartbeat.removeBeats();
    try {
      await retry(
        async () => {
          if ((await files.holder())?.token === a.me.token) await files.remove();
        },
        {
          policy: RELEASE_RETRY,
          classify: (outcome) => !outcome.ok && mayHaveActed(outcome.error) && { reason: "release" },
        },
      ).catch((error: unknown) => {
        throw new UserError(`could not release the stack lock ${files.path} in the project: ${errorMessage(error)}`, {
          notes: [`it expires at ${a.me.expiresAt}; or delete ${files.path} from the project`],
        });
      });
    } finally {
      await beatsGone;
    }
  };
  return { ...(read ? { read } : {}), release };
}

/**
 * Beats while the lock is held: upload beat n, then delete beat n-1, so a reader always finds one. A failed beat is
 * skipped; the next one catches up within the MISSED_BEATS a waiter allows.
 */
function startHeartbeat(files: ProjectLockFiles, token: string, heartbeatMs: number) {
  // Beats that may exist: from the start of their upload until their delete succeeds. Only this process beats
  // with its token, so this is every beat file it may have left, without listing the directory at release.
  const mayExist = new Set<number>();
  let n = 0;
  const beat = async () => {
    const k = n;
    mayExist.add(k);
    await files.uploadBeat(token, k);
    // Uploaded: the next beat is a new name even if this delete fails (an upload never overwrites).
    n++;
    if (k > 0) {
      await files.removeBeat(token, k - 1);
      mayExist.delete(k - 1);
    }
  };
  let last = beat().catch(() => {});
  const timer = setInterval(() => {
    last = last.then(() => beat().catch(() => {}));
  }, heartbeatMs);
  timer.unref();
  return {
    /** Stops beating once the beat under way has finished. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await last;
    },
    /** Deletes every beat file this holder may have left; never fails (a beat left behind misleads nobody). */
    removeBeats: () => Promise.all([...mayExist].map((k) => files.removeBeat(token, k))).catch(() => {}),
  };
}
