/**
 * The engine bound to this package's kinds (resources/index.ts): what commands, the library API and tests call.
 * The engine itself takes the registry as a parameter and knows no kind.
 */
import type { CmlClient } from "../client/index.js";
import { type ApplyOptions, apply as applyWith, liveOutputs as liveOutputsWith } from "./engine/apply.js";
import type { DesiredState } from "./engine/desired.js";
import type { ApplySummary } from "./engine/events.js";
import type { LiveState as AnyLiveState, Platform } from "./engine/kind.js";
import { readLive as readWith } from "./engine/live.js";
import { type PlanOptions, planDestroy as planDestroyWith, plan as planWith } from "./engine/plan.js";
import type { Plan } from "./engine/types.js";
import type { ResolvedManifest } from "./manifest/model.js";
import { kinds } from "./resources/index.js";

export { selectEntries } from "./engine/plan.js";
export { EMPTY_LIVE, kinds, type LiveState } from "./resources/index.js";

type Options = Omit<PlanOptions, "kinds">;

/** plan(desired, live) → Plan: pure data. */
export function plan(desired: DesiredState, live: AnyLiveState, options: Options): Plan {
  return planWith(desired, live, { ...options, kinds });
}

/** The deletion of everything the stack owns, as a plan. */
export function planDestroy(desired: DesiredState, live: AnyLiveState, options: Options): Plan {
  return planDestroyWith(desired, live, { ...options, kinds });
}

export function readLive(
  api: CmlClient,
  manifest: ResolvedManifest,
  platform: Platform,
  expectedProjectId?: string,
): Promise<AnyLiveState> {
  return readWith(api, manifest, kinds, platform, expectedProjectId);
}

export function apply(p: Plan, options: Omit<ApplyOptions, "kinds">): Promise<ApplySummary> {
  return applyWith(p, { ...options, kinds });
}

/** Outputs of the plan's existing resources, as the live state shows them. */
export function liveOutputs(p: Plan, state: { desired: DesiredState; live: AnyLiveState }) {
  return liveOutputsWith(p, { ...state, kinds });
}
