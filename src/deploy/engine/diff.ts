/**
 * Field-level comparison of two normalised field maps under a kind's rules (house style P5): server defaults
 * fill missing sides, recreate-on fields carry their reason, everything else is an in-place update.
 */
import type { FieldMap, FieldRules } from "./kind.js";
import type { FieldChange, PlanValue } from "./types.js";

export function diffFields(desired: FieldMap, live: FieldMap, rules: FieldRules): FieldChange[] {
  const paths = [...new Set([...Object.keys(desired), ...Object.keys(live)])].sort();
  const changes: FieldChange[] = [];
  for (const path of paths) {
    const fallback = rules.serverDefaults[path];
    const want = desired[path] ?? fallback;
    const have = live[path] ?? fallback;
    if (sameValue(want, have)) continue;
    const recreate = recreateReason(path, rules);
    const change: FieldChange = { path, action: recreate ? "recreate" : "update" };
    if (recreate) change.reason = recreate;
    if (have !== undefined) change.old = have;
    if (want !== undefined) change.new = want;
    changes.push(change);
  }
  return changes;
}

function recreateReason(path: string, rules: FieldRules): string | undefined {
  if (rules.recreateOn[path]) return rules.recreateOn[path];
  const prefix = Object.keys(rules.recreateOn).find((p) => p.endsWith(".*") && path.startsWith(p.slice(0, -1)));
  return prefix ? rules.recreateOn[prefix] : undefined;
}

export function sameValue(a: PlanValue | undefined, b: PlanValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (typeof a !== "object" || typeof b !== "object") return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
