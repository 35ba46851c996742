/**
 * The resolved manifest: what `loadManifest` (manifest/) produces and what the engine (engine/, resources/)
 * consumes. It is the seam between the two halves of deploy, so it is small, fully resolved (variables,
 * `${env:…}`, defaults and includes already applied) and carries no YAML: only where each value came from.
 *
 * Two things stay unresolved on purpose:
 * - secrets keep their name beside the value, so every renderer can print `(secret)` instead of the value;
 * - references to other resources' server-side fields (`${resources.models.answerer.access_key}`) are only
 *   known during apply, so they stay as references and the engine orders resources by them.
 */

/** Where a value came from in a manifest file (1-based line and column). */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** `<kind>.<name>` everywhere: output, errors, JSON, plan files. */
export type ResourceKind = "project" | "files" | "jobs" | "applications" | "models";
/**
 * A plan entry's key: `project`, or `<kind>.<name>` (`jobs.scrape`, `models.answerer.build`). The manifest's kinds
 * are `ResourceKind`; the engine's are whatever its registry holds (src/deploy/resources/index.ts).
 */
export type ResourceKey = `${ResourceKind | (string & {})}.${string}` | "project";

/** A value taken from `${secret:NAME}`: the value goes only into API request bodies, never into output. */
export interface SecretValue {
  kind: "secret";
  name: string;
  value: string;
}

/** `${resources.<kind>.<name>.<field>}`: resolved by the engine once the referenced resource exists. */
export interface ResourceRef {
  kind: "ref";
  resource: ResourceKey;
  /** A field of the live object, e.g. `id`, `access_key`, `url`, `subdomain`. */
  field: string;
}

/** An environment value: literal text, a secret, or a whole-value reference to another resource. */
export type EnvValue = string | SecretValue | ResourceRef;
export type EnvMap = Readonly<Record<string, EnvValue>>;

/** A runtime named the way people name them; the engine resolves it to an identifier with `resolveRuntime`. */
export type RuntimeChoice =
  | { identifier: string; addons?: readonly string[] }
  | { editor: string; kernel: string; edition: string; version?: string; addons?: readonly string[] };

export interface ComputeResources {
  /** vCPUs. */
  cpu: number;
  /** GiB. */
  memory: number;
  gpu: number;
}

/** Common to everything the manifest declares. */
export interface ResourceBase {
  /** The manifest key (`scrape` in `jobs.scrape`). */
  key: string;
  /** Where the resource is declared, for diagnostics and plan output. */
  location: SourceLocation;
  /** Refuse to delete or recreate this resource (`prevent_destroy: true`). */
  preventDestroy: boolean;
}

export interface ProjectSpec extends Omit<ResourceBase, "key"> {
  name: string;
  description: string;
  visibility: "private" | "public" | "organization";
  env: EnvMap;
}

/** `files:` entries: a local file or directory synced to a project-relative path by content hash. */
export interface FileSyncSpec {
  /** Absolute local path (a file or a directory), resolved against the manifest's directory. */
  from: string;
  /** Project-relative destination (a file path, or a directory when `from` is a directory). */
  to: string;
  /** Glob patterns (relative to `from`) to leave out. */
  exclude: readonly string[];
  location: SourceLocation;
}

export interface JobSpec extends ResourceBase {
  /** The CML job name (defaults to the key). Natural identity inside the project. */
  name: string;
  /** Project-relative script path. */
  script: string;
  /** CML passes it to the workload as JOB_ARGUMENTS. */
  arguments: string;
  /** Cron expression; exclusive with `after`. */
  schedule?: string;
  /** Key of the job this one runs after (CML `parent_id`). */
  after?: string;
  runtime: RuntimeChoice;
  resources: ComputeResources;
  /** Seconds; 0 = none. */
  timeout: number;
  killOnTimeout: boolean;
  /** CML ignores `paused` on PATCH, so a change is a recreate. */
  paused: boolean;
  env: EnvMap;
}

export interface ApplicationSpec extends ResourceBase {
  name: string;
  /** Natural identity of an application; CML serves it at `<subdomain>.<domain>`. */
  subdomain: string;
  description: string;
  script: string;
  runtime: RuntimeChoice;
  resources: ComputeResources;
  bypassAuthentication: boolean;
  env: EnvMap;
  /** Key of a job that must have succeeded before the application starts: apply runs it (not a CML link). */
  after?: string;
}

export interface ModelSpec extends ResourceBase {
  /** Natural identity inside the project. */
  name: string;
  description: string;
  /** Project-relative file holding the function. */
  file: string;
  /** The function CML calls with the request's JSON. */
  function: string;
  runtime: RuntimeChoice;
  /** False = create with `disable_authentication` (the endpoint then needs only the access key). */
  authEnabled: boolean;
  deployment: { resources: ComputeResources; replicas: number; env: EnvMap };
  /** Key of a job that must have succeeded before the model is built: apply runs it (not a CML link). */
  after?: string;
}

/** The target the manifest is applied to, after `--target` (or the default) was chosen. */
export interface TargetSpec {
  name: string;
  /** True for the local platform (connection from the local platform's server.json). */
  local: boolean;
  /** Workspace URL for remote targets (API key from CML_API_KEY). */
  url?: string;
}

/** A declared resource left out of this deployment, and why (shown by plan; never an error). */
export interface SkippedResource {
  key: ResourceKey;
  /** What identifies a live copy: the job or model name, the application subdomain. */
  name: string;
  reason: string;
  location: SourceLocation;
  /**
   * true: skipped because something it `requires` is unset on this machine; an existing copy is left alone
   * (a missing credential in one shell must not delete a deployed job). false: `enabled: false`; an existing
   * copy is pruned like any resource that left the manifest.
   */
  keepLive: boolean;
}

export interface ResolvedManifest {
  /** Stack name: identity of everything this manifest owns and the ownership marker's value. */
  name: string;
  /** Absolute path of the root manifest file. */
  file: string;
  target: TargetSpec;
  project: ProjectSpec;
  files: readonly FileSyncSpec[];
  /** Keyed by manifest key, in declaration order. */
  jobs: Readonly<Record<string, JobSpec>>;
  applications: Readonly<Record<string, ApplicationSpec>>;
  models: Readonly<Record<string, ModelSpec>>;
  /** Resources switched off by `enabled` or `requires` (absent when none). */
  skipped?: readonly SkippedResource[];
}

/**
 * The environment key that marks objects as owned by a stack (value: the stack name). Jobs, applications and
 * model deployments round-trip `environment`, so the marker needs no state file; projects carry it in their
 * project environment. Models have no environment: a model is ours when its deployment or its description says
 * so (see resources/README.md).
 */
export const OWNER_ENV_KEY = "CML_LAB_STACK";
