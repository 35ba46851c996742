/**
 * Apply (or destroy) a stack: plan under the stack lock, let the caller review the plan, refuse deletes that
 * nobody approved, execute, release the lock; plan again when a race for a new project made the plan stale.
 * The CLI's `apply`/`destroy` and the library's `apply`/`destroy` are this function with different renderers.
 */
import { UserError } from "../../shared/errors.js";
import { isDestructive } from "../engine/actions.js";
import type { ApplyEvent, ApplySummary } from "../engine/events.js";
import { describeHolder } from "../engine/lock.js";
import type { Plan } from "../engine/types.js";
import type { ResourceKey } from "../manifest/model.js";
import { listProjectCopies, settleNewProject } from "../resources/project.js";
import type { Project } from "../resources/types.js";
import { type OpenStack, openSession, type Session } from "../session.js";
import { apply, liveOutputs } from "../stack.js";

/** What an apply reports: the engine's events, plus waiting for the lock, planning again, and warnings. */
export type DeployEvent =
  | ApplyEvent
  | { type: "lock.wait"; holder: string; hint: string }
  | { type: "replan"; reason: string }
  | { type: "warning"; message: string; notes: readonly string[] };

export interface ApplyOptions {
  /** Manage objects that have the manifest's natural key but no marker. */
  adopt?: boolean;
  /** Delete everything the stack owns instead (respects prevent_destroy). */
  destroy?: boolean;
  /** Seconds-bounded wait for another apply's lock (default 300 s). */
  lockTimeoutMs?: number;
  /** Bound of each wait: project creation, application start, build, deployment (default 600 s). */
  waitTimeoutMs?: number;
  /** A saved plan's salt (`plan --out`): its secret fingerprints are keyed by it, so plan with it to compare. */
  planSalt?: string;
  /** Approve deletes and recreates without asking. */
  autoApprove?: boolean;
  /** Asks whether to go ahead with deletes/recreates; without it (and without autoApprove) they are refused. */
  confirm?: (question: string) => Promise<boolean>;
  /**
   * Sees the plan (conflict-free) before anything changes: returns the plan to execute (the same, or a
   * selection), or undefined to stop. A plan with no changes is never executed.
   */
  review?: (plan: Plan) => Promise<Plan | undefined> | Plan | undefined;
  onEvent?: (event: DeployEvent) => void;
  signal?: AbortSignal;
}

export interface ApplyResult {
  /** The plan that was executed (or found to have nothing to do). */
  plan: Plan;
  /** What was done; absent when there was nothing to do (or `review` stopped it). */
  summary?: ApplySummary;
  /** Outputs of the stack's resources after the apply (`id`, an application's `url`, a model's `access_key`…). */
  outputs: Partial<Record<ResourceKey, Record<string, string>>>;
}

export async function applyStack(stack: OpenStack, request: ApplyOptions = {}): Promise<ApplyResult> {
  const emit = request.onEvent ?? (() => {});
  // A plan goes out of date only in a race for a new project; each round settles it, so two rounds suffice.
  for (let round = 1; ; round++) {
    const session = await openSession(stack, {
      ...(request.adopt !== undefined ? { adopt: request.adopt } : {}),
      ...(request.destroy !== undefined ? { destroy: request.destroy } : {}),
      ...(request.planSalt !== undefined ? { planSalt: request.planSalt } : {}),
      lock: {
        timeoutMs: request.lockTimeoutMs ?? 300_000,
        onWait: (holder, hint) => emit({ type: "lock.wait", holder: describeHolder(holder), hint }),
        onTakeover: (holder, reason) =>
          emit({
            type: "warning",
            message: `took over the stack lock (${describeHolder(holder)}): ${reason}`,
            notes: [],
          }),
      },
    });
    let result: ApplyResult;
    try {
      result = await execute(request, session, emit);
    } finally {
      // What was applied stands; a lock that could not be released is worth a warning, not a failure.
      await session.lock?.release().catch((error: unknown) => {
        emit({
          type: "warning",
          message: error instanceof Error ? error.message : String(error),
          notes: error instanceof UserError ? error.notes : [],
        });
      });
    }
    const replan = result.summary?.replan;
    if (!replan) return result;
    if (round >= 3) throw new Error(`bug: the plan went out of date ${round} times in a row (${replan})`);
    emit({ type: "replan", reason: replan });
  }
}

async function execute(
  request: ApplyOptions,
  session: Session,
  emit: (event: DeployEvent) => void,
): Promise<ApplyResult> {
  const verb = request.destroy ? "destroy" : "apply";
  if (session.plan.conflicts.length > 0)
    throw new UserError(`cannot ${verb}: ${session.plan.conflicts.length} conflict(s)`, {
      notes: session.plan.conflicts,
    });
  const reviewed = request.review ? await request.review(session.plan) : session.plan;
  const p = reviewed ?? session.plan;
  const unchanged = () => ({ plan: p, outputs: Object.fromEntries(liveOutputs(p, session)) });
  if (!reviewed || p.entries.every((e) => e.action === "skip")) return unchanged();
  const destructive = p.entries.filter((e) => isDestructive(e.action));
  if (destructive.length > 0 && !request.autoApprove) {
    const what = destructive.map((e) => `${e.action} ${e.key}`).join(", ");
    if (request.confirm) {
      if (!(await request.confirm(`This will ${what}. Continue?`)))
        throw new UserError("cancelled; nothing was changed");
    } else
      throw new UserError(`the plan would ${what}; without a terminal to confirm, pass --auto-approve`, {
        notes: ["review the plan above, then run again with --auto-approve"],
      });
  }
  let outputs: ApplyResult["outputs"] = {};
  // [speed, issue 20] The copies of a project this apply creates are listed while it becomes ready, not after.
  let copies: Promise<Project[]> | undefined;
  const summary = await apply(p, {
    api: session.target.api,
    platform: session.target.platform,
    desired: session.desired,
    live: session.live,
    adopt: request.adopt ?? false,
    waitTimeoutMs: request.waitTimeoutMs ?? 600_000,
    onProjectId: () => {
      copies = listProjectCopies(session.target.api, session.manifest.project.name);
      // Used (or its failure replaced by a listing) in projectCreated; never left unhandled.
      copies.catch(() => undefined);
    },
    onProjectCreated: (id) => projectCreated(session, id, copies),
    onEvent: emit,
    onOutputs: (done) => {
      outputs = Object.fromEntries(done);
    },
    ...(request.signal ? { signal: request.signal } : {}),
  });
  return { plan: p, summary, outputs };
}

/**
 * The project this apply just created: keep it only if it is the one copy (resources/project.ts), then lock it
 * before anything goes in. Returns why the plan is out of date, if it is.
 */
async function projectCreated(
  session: Session,
  projectId: string,
  listed: Promise<Project[]> | undefined,
): Promise<string | undefined> {
  const name = session.manifest.project.name;
  if (!(await settleNewProject(session.target.api, session.manifest.name, name, projectId, listed)))
    return `another apply created project "${name}" at the same moment; this one deleted its copy (${projectId})`;
  // Another machine may have locked, filled and released the project between its creation and our lock: plan
  // again from a read under the lock (started alongside the lock's read-back: engine/lock.ts).
  const extended = await session.lock?.extendTo(projectId, () => session.planAgain(projectId));
  if (extended?.waited) return `another apply took over project "${name}" while it was being created`;
  const fresh = await (extended?.read ?? session.planAgain(projectId));
  const rest = (p: Plan) =>
    JSON.stringify(p.entries.filter((e) => e.key !== "project").map((e) => [e.key, e.action, e.changes]));
  return rest(fresh) === rest(session.plan)
    ? undefined
    : `another apply filled project "${name}" while it was being created`;
}
