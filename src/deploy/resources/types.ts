/**
 * The adapter contract (see README.md in this directory). One adapter per resource kind: how to turn the
 * desired spec and the live object into comparable field maps (the normalisers that prevent phantom diffs),
 * which fields CML cannot change in place (recreate, with the reason), and the mutating calls apply makes.
 */
import type { CmlClient, Schemas, WaitOptions } from "../../client/index.js";
import type { DesiredState } from "../engine/desired.js";
import type { LiveState } from "../engine/live.js";
import type { PlanEntry, PlanValue } from "../engine/types.js";
import type { ResourceKey } from "../manifest/model.js";

/** Normalised fields of one object, keyed by dotted path; `undefined` = not set. */
export type FieldMap = Record<string, PlanValue | undefined>;

export interface FieldRules {
  /** Fields CML cannot change in place: a change recreates the object. Value: the reason shown in the plan. */
  recreateOn: Readonly<Record<string, string>>;
  /**
   * Values the server fills in when a field is not sent; a missing field on either side compares as this
   * default, so "not set" and "server default" never diff. Each with the reason in a comment at the adapter.
   */
  serverDefaults: Readonly<Record<string, PlanValue>>;
}

/** What plan-time normalisers may look up. */
export interface NormaliseContext {
  stack: string;
  desired: DesiredState;
  live: LiveState;
  /** A live output of another resource (`id`, `access_key`, …), when that resource exists. */
  output(key: ResourceKey, field: string): string | undefined;
  secretHash(envKey: string, value: string): string;
}

/** Kinds of plan entry; `models.x.build` and `models.x.deployment` are their own entries. */
export type EntryKind = "project" | "files" | "jobs" | "applications" | "models" | "builds" | "deployments";

/** What apply's adapters get: the client, the desired state, outputs of finished nodes and a way to report waits. */
export interface ApplyContext {
  api: CmlClient;
  stack: string;
  desired: DesiredState;
  live: LiveState;
  /** The project id once the project exists (set by the project node). */
  projectId(): string;
  setProjectId(id: string): void;
  /** Live outputs by resource key (`id`, `access_key`, `subdomain`, …), filled as nodes finish. */
  outputs: Map<ResourceKey, Record<string, string>>;
  wait: (what: string) => WaitOptions;
  signal: AbortSignal;
  /** Adopt objects that have our natural key but no marker (`--adopt`). */
  adopt: boolean;
}

export interface ResourceAdapter {
  kind: EntryKind;
  rules: FieldRules;
  /** Creates the object (one API call) and waits until it is usable; returns its outputs. */
  create(ctx: ApplyContext, entry: PlanEntry): Promise<Record<string, string>>;
  /** Changes it in place (one API call, plus the restart/wait the kind needs); returns its outputs. */
  update(ctx: ApplyContext, entry: PlanEntry): Promise<Record<string, string>>;
  /** Deletes it (one API call); absent already = success. */
  delete(ctx: ApplyContext, entry: PlanEntry): Promise<void>;
}

export type Job = Schemas["Job"];
export type Application = Schemas["Application"];
export type Project = Schemas["Project"];
export type Model = Schemas["Model"];
export type ModelBuild = Schemas["ModelBuild"];
export type ModelDeployment = Schemas["ModelDeployment"];
