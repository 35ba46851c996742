/**
 * The common start of plan, apply and destroy: load the manifest (all diagnostics, or a UserError), connect
 * to its target, gather the desired state, read the live state, plan.
 */
import { randomBytes } from "node:crypto";
import { type CmlClientOptions, type CmlConnection, findOneByName } from "../client/index.js";
import { UserError } from "../shared/errors.js";
import { openTarget, resolveConnection, type Target } from "./connection.js";
import { type DesiredState, gatherDesired } from "./engine/desired.js";
import type { LiveState } from "./engine/kind.js";
import { acquireLock, type Lock, type LockHolder } from "./engine/lock.js";
import type { Plan } from "./engine/types.js";
import { formatDiagnostics, hasErrors, loadManifest, type ResolvedManifest } from "./manifest/index.js";
import { projectsOf } from "./resources/project.js";
import { plan, planDestroy, readLive } from "./stack.js";

/** Which manifest, for which target, from where. */
export interface StackOptions {
  /** Path of the manifest (relative to `cwd`). */
  manifest: string;
  /** Target name (default: the manifest's default target). */
  target?: string;
  /** Manifest variables (`--var name=value`). */
  vars?: Record<string, string>;
  /** Environment for `${env:…}`, secrets and credentials (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Directory the manifest path and `--data-dir` are relative to (default: process.cwd()). */
  cwd?: string;
  /** Local platform data directory (default `.cml-local`). */
  dataDir?: string;
  /** Client tuning (retries, timeouts, requests in flight). */
  client?: Omit<CmlClientOptions, "baseUrl" | "apiKey">;
}

/** A loaded manifest and a connection to its target: what every stack operation starts from. */
export interface OpenStack {
  options: StackOptions;
  manifest: ResolvedManifest;
  target: Target;
}

/** Loads and validates the manifest (a UserError listing every problem) and connects to its target. */
export async function openStack(options: StackOptions): Promise<OpenStack> {
  const manifest = await loadOrFail(options);
  return { options, manifest, target: openTarget(await connect(manifest, options), options.client) };
}

export interface SessionRequest {
  adopt?: boolean;
  /** Plan the deletion of everything this stack owns instead (destroy). */
  destroy?: boolean;
  /** Take the stack lock before planning (apply, destroy). */
  lock?: {
    timeoutMs: number;
    onWait?: (holder: LockHolder, breakHint: string) => void;
    onTakeover?: (holder: LockHolder, reason: string) => void;
  };
  /** Key of the plan's secret fingerprints: a saved plan's, to compare with it; default a fresh random one. */
  planSalt?: string;
}

export interface Session {
  manifest: ResolvedManifest;
  target: Target;
  desired: DesiredState;
  live: LiveState;
  plan: Plan;
  /** Held when the request asked for it; release it when done. */
  lock?: Lock;
  /**
   * Reads the workspace again and plans from it (to check that a plan is still current). `projectId`: the project
   * the caller holds the lock in, whose contents are then read alongside the project listing.
   */
  planAgain(projectId?: string): Promise<Plan>;
}

const envOf = (o: Pick<StackOptions, "env">) => o.env ?? process.env;
const cwdOf = (o: Pick<StackOptions, "cwd">) => o.cwd ?? process.cwd();

export async function loadOrFail(request: StackOptions): Promise<ResolvedManifest> {
  const result = await loadManifest(request.manifest, {
    ...(request.target !== undefined ? { target: request.target } : {}),
    vars: request.vars ?? {},
    env: envOf(request),
    cwd: cwdOf(request),
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

export async function connect(
  manifest: ResolvedManifest,
  request: Pick<StackOptions, "dataDir" | "env" | "cwd">,
): Promise<CmlConnection> {
  const env = envOf(request);
  const cwd = cwdOf(request);
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

export async function openSession(stack: OpenStack, request: SessionRequest = {}): Promise<Session> {
  const { manifest, target } = stack;
  const { api, connection, platform } = target;
  const planOptions = {
    target: { name: manifest.target.name, apiUrl: connection.baseUrl },
    adopt: request.adopt ?? false,
    salt: request.planSalt ?? randomBytes(16).toString("hex"),
  };
  const planFrom = (state: LiveState) =>
    request.destroy ? planDestroy(desired, state, planOptions) : plan(desired, state, planOptions);
  // Under the lock in a known project, its contents are read alongside the listing (engine/live.ts).
  const readNow = (lockedIn?: string) => readLive(api, manifest, platform, lockedIn);
  const [desired, firstLive] = await Promise.all([gatherDesired(manifest, api), readNow()]);
  let live = firstLive;
  let p = planFrom(live);
  let lock: Lock | undefined;
  // A plan with nothing to do mutates nothing, so it needs no lock: a no-op apply costs only the reads.
  const nothingToDo = p.conflicts.length === 0 && p.entries.every((e) => e.action === "skip");
  if (request.lock && !nothingToDo) {
    const known = onlyProjectId(live);
    let waited = false;
    const held = await acquireLock({
      api,
      apiUrl: connection.baseUrl,
      stack: manifest.name,
      project: manifest.project.name,
      projectId: known,
      env: envOf(stack.options),
      timeoutMs: request.lock.timeoutMs,
      onWait: (holder, breakHint) => {
        waited = true;
        request.lock?.onWait?.(holder, breakHint);
      },
      onTakeover: (holder, reason) => {
        // Another apply held it (and may have changed things before it died): read again.
        waited = true;
        request.lock?.onTakeover?.(holder, reason);
      },
      // What to plan from, read under the lock in the project (alongside the lock's read-back: engine/lock.ts).
      ...(known ? { readUnder: () => readNow(known) } : {}),
    });
    lock = held;
    // Another apply may have run between the first read and the lock: plan again from what is there now.
    // [speed, issue 20] Except for a new project locked without waiting: then only this machine's lock file was
    // taken in between (milliseconds, no API call), the same window as between this read and CreateProject, and a
    // project another machine made meanwhile is settled by project-race.ts as in a simultaneous first apply.
    // Saves one ListProjects round trip on the critical path of every first apply.
    if (known || waited || projectsOf(live).length > 0) live = await (held.read ?? readNow(known));
    // The project appeared in between (another machine is creating it): the lock must cover it, and what we plan
    // from must be read under that lock (its maker may have filled it between our read and our lock).
    const appeared = onlyProjectId(live);
    if (appeared && appeared !== known) {
      const extended = await held.extendTo(appeared, () => readNow(appeared));
      live = await (extended.read ?? readNow(appeared));
    }
    p = planFrom(live);
  }
  const planAgain = async (projectId?: string) => planFrom(await readNow(projectId));
  return { manifest, target, desired, live, plan: p, planAgain, ...(lock ? { lock } : {}) };
}

function onlyProjectId(live: LiveState): string | undefined {
  const projects = projectsOf(live);
  return projects.length === 1 ? projects[0]?.id : undefined;
}

/** For what acts on one existing object (run, logs): the stack and its project's id. */
export async function openProject(options: StackOptions | OpenStack): Promise<OpenStack & { projectId: string }> {
  const stack = "options" in options ? options : await openStack(options);
  const { manifest, target } = stack;
  const project = await findOneByName(target.api, "project", { name: manifest.project.name });
  if (!project?.id)
    throw new UserError(`project "${manifest.project.name}" does not exist on target ${manifest.target.name}`, {
      notes: [`create it with \`deploy apply ${stack.options.manifest}\``],
    });
  return { ...stack, projectId: project.id };
}
