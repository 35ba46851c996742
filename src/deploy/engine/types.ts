/**
 * The plan document (house style P3): pure data, versioned, printed by `deploy plan --json`, saved by `--out`,
 * executed by `apply`. It never holds a secret value: secrets appear as `{ secret: <salted hash> }` so a change
 * is still visible and fingerprinted.
 */
import type { ResourceKey } from "../manifest/model.js";
import type { ActionType } from "./actions.js";

/** A value as the plan shows it. */
export type PlanValue = string | number | boolean | null | readonly string[] | SecretMark | UnknownMark;

/** A secret: rendered `(secret)`; the hash detects a change without revealing the value. */
export interface SecretMark {
  secret: string;
}

/** A value only known once another resource exists (`${resources.models.x.access_key}`). */
export interface UnknownMark {
  knownAfterApply: string;
}

export interface FieldChange {
  /** Dotted field path, e.g. `script`, `env.MODEL_ID`, `resources.cpu`, `files/workloads/app.py`. */
  path: string;
  /** `update` when the API changes it in place, `recreate` when it cannot. */
  action: "update" | "recreate";
  /** Why a recreate (or a non-obvious update) is needed. */
  reason?: string;
  /** Live value; absent = not set. */
  old?: PlanValue;
  /** Desired value; absent = removed. */
  new?: PlanValue;
}

export interface PlanEntry {
  key: ResourceKey;
  action: ActionType;
  /** Live object id when the object exists. */
  id?: string;
  dependsOn: ResourceKey[];
  changes: FieldChange[];
  /** Why this action (recreate, delete of a pruned object, adoption). */
  reason?: string;
  /** Refuse delete/recreate (`prevent_destroy: true`). */
  preventDestroy?: boolean;
}

export interface PlanTarget {
  name: string;
  apiUrl?: string;
}

export interface Plan {
  version: 1;
  /** Stack name (the ownership marker's value). */
  stack: string;
  target: PlanTarget;
  /** Project name the plan is for. */
  project: string;
  entries: PlanEntry[];
  /**
   * Objects that block the plan: same natural key but unmarked (adopt with --adopt) or owned by another stack.
   * A plan with conflicts cannot be applied.
   */
  conflicts: string[];
  /** Resources the manifest declares but switched off (`enabled` / `requires`), with the reason. */
  skipped?: { key: string; reason: string }[];
  /** Hash of the live objects and entries this plan was computed from; a saved plan is refused when it differs. */
  fingerprint: string;
  /** Key (hex) of this plan's secret fingerprints; see PlanOptions.salt. */
  salt?: string;
}
