import type { DesiredState, ResolvedRuntime } from "../engine/desired.js";
import { runtimeKey } from "../engine/desired.js";
import type { RuntimeChoice } from "../manifest/model.js";

export function resolvedRuntime(desired: DesiredState, choice: RuntimeChoice): ResolvedRuntime {
  const runtime = desired.runtimes.get(runtimeKey(choice));
  if (!runtime) throw new Error(`bug: runtime ${runtimeKey(choice)} was not resolved`);
  return runtime;
}
