/**
 * The adapter contract (src/deploy/resources/README.md): everything the engine knows about a kind of object. The
 * engine is loops over a registry of these — reading live state, matching, diffing, pruning, destroying and
 * applying — and never names a kind itself; adding a kind is one adapter file and one registry line.
 */
import type { CmlClient, CmlConnection, WaitOptions } from "../../client/index.js";
import type { ResolvedManifest, ResourceKey } from "../manifest/model.js";
import type { DesiredState } from "./desired.js";
import type { PlanEntry, PlanValue } from "./types.js";

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

/**
 * What the workspace holds for one stack: each kind's live objects under its registry key (`projects`, `jobs`…),
 * in whatever shape that kind's `read` returns. Only the adapter that wrote a slot reads it (a typed view of the
 * whole state is `LiveState` in resources/index.ts).
 */
export type LiveState = Readonly<Record<string, unknown>>;

/** Where the engine runs: how to find an application's URL and whether logs can be read are the platform's. */
/** Where the engine works: the connection, its client, and what the platform behind it can do. */
export interface Target {
  connection: CmlConnection;
  api: CmlClient;
  platform: Platform;
}

export interface Platform {
  /** An application's URL (a workspace computes it from the subdomain; the local platform is asked). */
  appUrl(app: { id: string; subdomain: string; projectId: string }): Promise<string | undefined>;
  /** Whether the API serves workload logs (CML's does not; the local platform adds an extension). */
  logs(): Promise<boolean>;
}

export interface ReadContext {
  api: CmlClient;
  /**
   * The manifest being planned: what to list (the project by name) and which kinds it needs (a kind the
   * platform does not implement holds none of ours unless it does). Undefined = read everything (`deploy import`).
   */
  manifest?: ResolvedManifest;
  platform: Platform;
  /** The container's id (the project), once exactly one exists; undefined while reading the container itself. */
  projectId?: string;
}

/** What plan-time normalisers may look up. */
export interface PlanContext {
  stack: string;
  desired: DesiredState;
  live: LiveState;
  /** A live output of another resource (`id`, `access_key`, `url`…), when that resource exists. */
  output(key: ResourceKey, field: string): string | undefined;
  secretHash(envKey: string, value: string): string;
  /** An entry this plan already holds (kinds plan in registry order; a kind's own entries as they are made). */
  planned(key: ResourceKey): PlanEntry | undefined;
}

/** One manifest resource as a kind plans it: matched to its live object by natural key, as two field views. */
export interface Draft {
  key: ResourceKey;
  dependsOn: ResourceKey[];
  /** The manifest's values, normalised. */
  want: FieldMap;
  /** The matched live object in the same shape and units; undefined = it does not exist. */
  have?: FieldMap;
  /** The matched live object's id. */
  id?: string;
  /**
   * The matched object's ownership marker (stack name; undefined = unmarked). Absent for kinds whose objects
   * belong to whatever owns them (files, builds): the engine then checks nothing.
   */
  owner?: { stack: string | undefined };
  preventDestroy?: boolean;
  /** List the fields even when creating (files: which files are uploaded). */
  alwaysListChanges?: boolean;
}

/** A live object of a kind, for pruning and destroy. */
export interface LiveObject {
  /** The key it would have in a manifest (`jobs.<name>`). */
  key: ResourceKey;
  id: string | undefined;
  /** Stack name from its marker; undefined = unmarked. */
  owner: string | undefined;
  /** The manifest keeps it through a destroy (`prevent_destroy`). */
  preventDestroy: boolean;
}

/** What apply's adapters get: the client, the desired state, outputs of finished nodes and a way to report waits. */
export interface ApplyContext {
  api: CmlClient;
  stack: string;
  desired: DesiredState;
  live: LiveState;
  platform: Platform;
  /** The project id once the project exists (set by the project node). */
  projectId(): string;
  setProjectId(id: string): void;
  /** Live outputs by resource key (`id`, `access_key`, `subdomain`, `url`…), filled as nodes finish. */
  outputs: Map<ResourceKey, Record<string, string>>;
  wait: (what: string) => WaitOptions;
  signal: AbortSignal;
  /** Adopt objects that have our natural key but no marker (`--adopt`). */
  adopt: boolean;
  /** This apply's entry for a key (what it does to that resource), if the plan has one. */
  planned(key: ResourceKey): PlanEntry | undefined;
  /** Work several nodes need done once per apply (running a job they all wait for): the first call's promise. */
  once<T>(name: string, work: () => Promise<T>): Promise<T>;
}

export interface KindAdapter {
  /** The first part of its entry keys: `jobs` for `jobs.<key>`; `project` for the one `project` entry. */
  readonly kind: string;
  rules: FieldRules;
  /** Whether a plan entry key is one of this kind's (most kinds: `<kind>.<name>`). */
  owns(key: ResourceKey): boolean;
  /**
   * The container every other object lives in (the project): read first, exactly one may exist, prune and
   * destroy go through it. Exactly one registered kind is the container.
   */
  container?: {
    /** The one live container, when exactly one exists; a conflict message when more do. */
    one(ctx: Pick<PlanContext, "desired" | "live">, destroy: boolean): { found?: LiveObject; conflict?: string };
  };
  /**
   * Objects that live inside the container's record rather than as API objects (synced files): pruned after
   * the others, and deleted by destroy only when the container itself stays.
   */
  insideContainer?: boolean;
  /** Reads this kind's live objects (few calls); the result is this kind's slot in LiveState. */
  read?(ctx: ReadContext): Promise<unknown>;
  /** The manifest's resources of this kind, each matched to its live object (lazily: drafts may use `planned`). */
  plan(ctx: PlanContext): Iterable<Draft>;
  /** Adjusts this kind's entries once all of them are planned (a recreated parent re-points its children). */
  finish?(ctx: PlanContext): void;
  /** This kind's live objects, for prune and destroy (kinds without them are never pruned on their own). */
  existing?(ctx: PlanContext): LiveObject[];
  /** Outputs of the live object a manifest key matches (`${resources.<key>.<field>}`; unchanged entries at apply). */
  outputs(key: ResourceKey, ctx: Pick<PlanContext, "desired" | "live">): Record<string, string> | undefined;
  /** Creates the object (one API call) and waits until it is usable; returns its outputs. */
  create(ctx: ApplyContext, entry: PlanEntry): Promise<Record<string, string>>;
  /** Changes it in place (one API call, plus the restart/wait the kind needs); returns its outputs. */
  update(ctx: ApplyContext, entry: PlanEntry): Promise<Record<string, string>>;
  /** Deletes it (one API call); absent already = success. */
  delete(ctx: ApplyContext, entry: PlanEntry): Promise<void>;
}

/** The kinds an engine works with, keyed by their slot in LiveState; planned (and pruned) in this order. */
export type KindRegistry = Readonly<Record<string, KindAdapter>>;

export function adapterFor(kinds: KindRegistry, key: ResourceKey): KindAdapter {
  for (const adapter of Object.values(kinds)) if (adapter.owns(key)) return adapter;
  throw new Error(`bug: no adapter for ${key}`);
}

export function containerOf(kinds: KindRegistry): KindAdapter & Required<Pick<KindAdapter, "container">> {
  const found = Object.values(kinds).filter((k) => k.container);
  const [container] = found;
  if (found.length !== 1 || !container?.container) throw new Error("bug: a registry needs exactly one container kind");
  return container as KindAdapter & Required<Pick<KindAdapter, "container">>;
}
