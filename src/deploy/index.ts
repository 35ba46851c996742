/**
 * `cml-lab/deploy`: the deploy engine as a library, for CI/CD pipelines written in TypeScript. The `deploy` CLI is
 * a thin shell over these functions: it parses arguments, calls them and renders their events. Errors are the
 * CLI's: a `UserError` (a mistake the caller can fix; `location` and `notes` say where and what next) or an
 * `ApiError` (the API refused; `status`, `code`).
 */
import type { CmlClient } from "../client/index.js";
import { connectFromArgs, type Target } from "./connection.js";
import type { Plan } from "./engine/types.js";
import { type ApplyOptions, type ApplyResult, applyStack } from "./operations/apply-stack.js";
import { importProject as importWith } from "./operations/import.js";
import { type JobRunResult, type RunJobOptions, runJob as runWith } from "./operations/run-job.js";
import {
  type SetAppScriptEvent,
  type SetAppScriptRequest,
  type SetAppScriptResult,
  setAppScript as setScriptWith,
} from "./operations/set-app-script.js";
import { type OpenStack, openSession, openStack, type StackOptions } from "./session.js";

export { ApiError, isApiError, WaitFailedError, WaitTimeoutError } from "../client/index.js";
export { isUserError, UserError } from "../shared/errors.js";
export type { Target } from "./connection.js";
export type { ActionType } from "./engine/actions.js";
export type { ApplyCounts, ApplyEvent, ApplySummary } from "./engine/events.js";
export { applySummaryLine } from "./engine/events.js";
export { renderEvent, renderPlan } from "./engine/render.js";
export type { FieldChange, Plan, PlanEntry, PlanValue } from "./engine/types.js";
export type { ResolvedManifest, ResourceKey } from "./manifest/model.js";
export type { ApplyOptions, ApplyResult, DeployEvent } from "./operations/apply-stack.js";
export type { JobRunResult, RunJobOptions } from "./operations/run-job.js";
export type { SetAppScriptEvent, SetAppScriptRequest, SetAppScriptResult } from "./operations/set-app-script.js";
export type { OpenStack, StackOptions } from "./session.js";
export { selectEntries } from "./stack.js";

/** A stack opened once (manifest loaded and validated, target connected), for several operations in a row. */
export interface Stack extends OpenStack {
  /** What apply would change, field by field: pure data (reads the workspace, changes nothing). */
  plan(options?: { adopt?: boolean }): Promise<Plan>;
  apply(options?: ApplyOptions): Promise<ApplyResult>;
  destroy(options?: Omit<ApplyOptions, "destroy" | "adopt">): Promise<ApplyResult>;
  runJob(job: string, options?: Omit<RunJobOptions, "job">): Promise<JobRunResult>;
}

/** Loads and validates the manifest (a UserError lists every problem) and connects to its target. */
export async function loadStack(options: StackOptions): Promise<Stack> {
  const stack = await openStack(options);
  return {
    ...stack,
    plan: async (o = {}) => (await openSession(stack, o)).plan,
    apply: (o) => applyStack(stack, o),
    destroy: (o = {}) => applyStack(stack, { ...o, destroy: true }),
    runJob: (job, o = {}) => runWith(stack, { ...o, job }),
  };
}

/** The plan for a manifest: pure data, the same document `deploy plan --json` prints. */
export async function plan(options: StackOptions & { adopt?: boolean }): Promise<Plan> {
  return (await loadStack(options)).plan({ adopt: options.adopt ?? false });
}

/**
 * Makes the workspace match the manifest: plans under the stack lock, executes, reports progress through
 * `onEvent`. Deletes and recreates need `autoApprove` (or a `confirm` that says yes).
 */
export async function apply(options: StackOptions & ApplyOptions): Promise<ApplyResult> {
  return (await loadStack(options)).apply(options);
}

/** Deletes everything the stack created (keeps what the manifest marks prevent_destroy). */
export async function destroy(options: StackOptions & Omit<ApplyOptions, "destroy" | "adopt">): Promise<ApplyResult> {
  return (await loadStack(options)).destroy(options);
}

/** Starts a run of a manifest job; with `wait` (or `onLog`), waits for its outcome. */
export async function runJob(options: StackOptions & RunJobOptions): Promise<JobRunResult> {
  return runWith(await openStack(options), options);
}

/** Where to connect without a manifest: `local` (the local platform) or a workspace from CML_API_URL/CML_API_KEY. */
export interface ConnectOptions {
  /** `local`, or anything else for the workspace in the environment; default: the environment, else local. */
  target?: string;
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export async function connect(options: ConnectOptions = {}): Promise<Target & { api: CmlClient }> {
  return connectFromArgs(
    { target: options.target, "data-dir": options.dataDir },
    { env: options.env ?? process.env, cwd: options.cwd ?? process.cwd() },
  );
}

/** A manifest (YAML text) for an existing project, so it can come under deploy's management (`apply --adopt`). */
export async function importProject(
  options: ConnectOptions & { project: string; stack?: string; local?: boolean },
): Promise<string> {
  const target = await connect(options);
  const local = options.local ?? target.connection.source?.includes("local") ?? false;
  return importWith(target, { project: options.project, ...(options.stack ? { stack: options.stack } : {}), local });
}

/** Points an application at another script in its project, restarts it and waits until it runs. */
export async function setAppScript(
  options: ConnectOptions & SetAppScriptRequest,
  onEvent?: (event: SetAppScriptEvent) => void,
): Promise<SetAppScriptResult> {
  const { api } = await connect(options);
  return setScriptWith(api, options, onEvent);
}
