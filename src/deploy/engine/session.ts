/**
 * The common start of plan, apply and destroy: load the manifest (all diagnostics, or a UserError), connect
 * to its target, gather the desired state, read the live state, plan.
 */
import { randomBytes } from "node:crypto";
import {
  type CmlClient,
  type CmlClientOptions,
  type CmlConnection,
  createCmlClient,
  findOneByName,
  isApiError,
  rawRequest,
} from "../../client/index.js";
import { UserError } from "../../shared/errors.js";
import type { CliIo } from "../../shared/io.js";
import { resolveConnection } from "../connection.js";
import { formatDiagnostics, hasErrors, loadManifest, type ResolvedManifest } from "../manifest/index.js";
import { type DesiredState, gatherDesired } from "./desired.js";
import { type LiveState, readLive } from "./live.js";
import { acquireLock, type Lock, type LockHolder } from "./lock.js";
import { plan, planDestroy } from "./plan.js";
import type { Plan } from "./types.js";

export interface SessionRequest {
  manifest: string;
  target?: string;
  vars: Record<string, string>;
  io: CliIo;
  dataDir?: string;
  adopt?: boolean;
  /** Plan the deletion of everything this stack owns instead (destroy). */
  destroy?: boolean;
  /** Client tuning for embedders and tests (retries, timeouts, transport); the CLI uses the defaults. */
  client?: Omit<CmlClientOptions, "baseUrl" | "apiKey">;
  /** Take the stack lock before planning (apply, destroy). */
  lock?: { timeoutMs: number; onWait?: (holder: LockHolder) => void };
  /** Key of the plan's secret fingerprints: a saved plan's, to compare with it; default a fresh random one. */
  planSalt?: string;
}

export interface Session {
  manifest: ResolvedManifest;
  connection: CmlConnection;
  api: CmlClient;
  desired: DesiredState;
  live: LiveState;
  plan: Plan;
  /** Held when the request asked for it; release it when done. */
  lock?: Lock;
  /** Reads the workspace again and plans from it (to check that a plan is still current). */
  planAgain(): Promise<Plan>;
}

export async function loadOrFail(request: SessionRequest): Promise<ResolvedManifest> {
  const result = await loadManifest(request.manifest, {
    ...(request.target !== undefined ? { target: request.target } : {}),
    vars: request.vars,
    env: request.io.env,
    cwd: request.io.cwd,
  });
  // A manifest that cannot be read at all is one plain problem: say it once, not as "… is not valid" around it.
  const [only] = result.diagnostics;
  if (!result.manifest && result.diagnostics.length === 1 && only && !only.location) throw new UserError(only.message);
  if (!result.manifest || hasErrors(result.diagnostics)) {
    const text = formatDiagnostics(result.diagnostics, "text", { color: false });
    throw new UserError(`${request.manifest} is not valid`, { notes: text ? [text.trimEnd()] : [] });
  }
  return result.manifest;
}

export async function connect(manifest: ResolvedManifest, request: SessionRequest): Promise<CmlConnection> {
  const { env, cwd } = request.io;
  if (manifest.target.local) return resolveConnection({ target: "local", dataDir: request.dataDir, env, cwd });
  if (manifest.target.url) {
    const apiKey = env.CML_API_KEY || env.CDSW_APIV2_KEY;
    if (!apiKey)
      throw new UserError(`target ${manifest.target.name} needs an API key: set CML_API_KEY`, {
        notes: ["an API v2 key from User Settings → API Keys"],
      });
    return { baseUrl: manifest.target.url, apiKey, source: `target ${manifest.target.name}` };
  }
  return resolveConnection({ target: manifest.target.name, dataDir: request.dataDir, env, cwd });
}

export async function openSession(request: SessionRequest): Promise<Session> {
  const manifest = await loadOrFail(request);
  const connection = await connect(manifest, request);
  const api = createCmlClient({ ...request.client, baseUrl: connection.baseUrl, apiKey: connection.apiKey });
  const planOptions = {
    target: { name: manifest.target.name, apiUrl: connection.baseUrl },
    adopt: request.adopt ?? false,
    salt: request.planSalt ?? randomBytes(16).toString("hex"),
  };
  const appUrl = appUrlFor(api, connection.baseUrl);
  const planFrom = (state: LiveState) =>
    request.destroy ? planDestroy(desired, state, planOptions) : plan(desired, state, planOptions);
  const readNow = async () => withAppUrls(await readLive(api, manifest), appUrl);
  const [desired, firstLive] = await Promise.all([gatherDesired(manifest, api), readLive(api, manifest)]);
  let live = await withAppUrls(firstLive, appUrl);
  let p = planFrom(live);
  let lock: Lock | undefined;
  // A plan with nothing to do mutates nothing, so it needs no lock: a no-op apply costs only the reads.
  const nothingToDo = p.conflicts.length === 0 && p.entries.every((e) => e.action === "skip");
  if (request.lock && !nothingToDo) {
    const known = onlyProjectId(live);
    let waited = false;
    lock = await acquireLock({
      api,
      apiUrl: connection.baseUrl,
      stack: manifest.name,
      project: manifest.project.name,
      projectId: known,
      env: request.io.env,
      timeoutMs: request.lock.timeoutMs,
      onWait: (holder) => {
        waited = true;
        request.lock?.onWait?.(holder);
      },
    });
    // Another apply may have run between the first read and the lock: plan again from what is there now.
    // [speed, issue 20] Except for a new project locked without waiting: then only this machine's lock file was
    // taken in between (milliseconds, no API call), the same window as between this read and CreateProject, and a
    // project another machine made meanwhile is settled by project-race.ts as in a simultaneous first apply.
    // Saves one ListProjects round trip on the critical path of every first apply.
    if (known || waited || live.projects.length > 0) live = await readNow();
    // The project appeared in between (another machine is creating it): the lock must cover it, and what we plan
    // from must be read under that lock (its maker may have filled it between our read and our lock).
    const appeared = onlyProjectId(live);
    if (appeared && appeared !== known) {
      await lock.extendTo(appeared);
      live = await readNow();
    }
    p = planFrom(live);
  }
  const planAgain = async () => planFrom(await readNow());
  return { manifest, connection, api, desired, live, plan: p, planAgain, ...(lock ? { lock } : {}) };
}

function onlyProjectId(live: LiveState): string | undefined {
  return live.projects.length === 1 ? live.projects[0]?.id : undefined;
}

/** URLs of the live applications (computed on a workspace; one call each on the local platform). */
async function withAppUrls(live: LiveState, appUrl: ReturnType<typeof appUrlFor>): Promise<LiveState> {
  const projectId = live.projects[0]?.id;
  if (!projectId || live.applications.length === 0) return live;
  const pairs = await Promise.all(
    live.applications.map(async (a) =>
      a.id && a.subdomain
        ? ([a.id, await appUrl({ id: a.id, subdomain: a.subdomain, projectId })] as const)
        : undefined,
    ),
  );
  const appUrls: Record<string, string> = {};
  for (const pair of pairs) if (pair?.[1]) appUrls[pair[0]] = pair[1];
  return { ...live, appUrls };
}

/**
 * Application URL: on a workspace `https://<subdomain>.<workbench domain>` (FACTS.md §2); on the local platform
 * its endpoint extension says where the process listens.
 */
export function appUrlFor(
  api: CmlClient,
  apiUrl: string,
): (app: { id: string; subdomain: string; projectId: string }) => Promise<string | undefined> {
  return async (app) => {
    const url = new URL(apiUrl);
    if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost")
      return `${url.protocol}//${app.subdomain}.${url.host}`;
    const endpoint = await rawRequest(api, {
      method: "GET",
      path: `/projects/${app.projectId}/applications/${app.id}/endpoint`,
    }).catch(() => undefined);
    return typeof endpoint === "object" && endpoint !== null && "url" in endpoint && typeof endpoint.url === "string"
      ? endpoint.url
      : undefined;
  };
}

/** For commands that act on one existing object (run, logs): the manifest, a client and the project's id. */
export async function openProject(
  request: SessionRequest,
): Promise<{ manifest: ResolvedManifest; api: CmlClient; projectId: string }> {
  const manifest = await loadOrFail(request);
  const connection = await connect(manifest, request);
  const api = createCmlClient({ baseUrl: connection.baseUrl, apiKey: connection.apiKey });
  const project = await findOneByName(api, "project", { name: manifest.project.name });
  if (!project?.id)
    throw new UserError(`project "${manifest.project.name}" does not exist on target ${manifest.target.name}`, {
      notes: [`create it with \`deploy apply ${request.manifest}\``],
    });
  return { manifest, api, projectId: project.id };
}

/** Follows a growing log through the local platform's log extension, printing only what is new. */
export function logFollower(api: CmlClient, path: string, print: (text: string) => void) {
  let printed = 0;
  let unavailable = false;
  return {
    async poll(): Promise<void> {
      if (unavailable) return;
      const text = await rawRequest(api, { method: "GET", path }).catch((error: unknown) => {
        // CML's API has no log endpoint (only the local platform adds one): say so once, then stay quiet.
        if (isApiError(error) && (error.status === 404 || error.status === 501)) unavailable = true;
        return undefined;
      });
      if (unavailable) print("(logs are not available through this workspace's API; see the CML UI)\n");
      if (typeof text !== "string" || text.length <= printed) return;
      print(text.slice(printed));
      printed = text.length;
    },
  };
}
