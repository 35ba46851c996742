// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the manifest syntax itself is ${…}, written in plain strings.
/**
 * The manifest format, defined once. The same JSON Schema objects drive the validator (ajv, with errors mapped to
 * located diagnostics in schema-errors.ts), the committed editor schema (schema/manifest.schema.json, written by
 * `npm run gen:schema` and checked for drift by a test), `deploy schema`, and the reference in docs/manifest.md.
 *
 * Interpolation (`${var.x}`, `${env:X}`, …) is allowed in every text field. Number and boolean fields also accept
 * a string that is exactly one `${…}` reference (type [number, string] plus a pattern that only applies to strings),
 * so editors accept `cpu: ${var.cpu}` and the resolver converts the value after interpolation.
 */

export type JsonType = "string" | "number" | "integer" | "boolean" | "object" | "array" | "null";

export interface JsonSchema {
  $schema?: string;
  $id?: string;
  $ref?: string;
  title?: string;
  description?: string;
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  enum?: (string | number | boolean)[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  default?: string | number | boolean;
  examples?: (string | number | boolean)[];
  definitions?: Record<string, JsonSchema>;
}

/** A string that is exactly one `${…}` reference (the only string a number or boolean field accepts). */
export const WHOLE_REFERENCE = "^\\$\\{[^{}]+\\}$";
/** Keys of jobs, applications, models and targets: they appear in `${resources.jobs.<key>.id}`, so no dots. */
export const KEY_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_-]*$";
export const VARIABLE_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$";

const text = (description: string, extra: Partial<JsonSchema> = {}): JsonSchema => ({
  type: "string",
  description,
  ...extra,
});
const number = (description: string, extra: Partial<JsonSchema> = {}): JsonSchema => ({
  type: ["number", "string"],
  pattern: WHOLE_REFERENCE,
  minimum: 0,
  description,
  ...extra,
});
const integer = (description: string, extra: Partial<JsonSchema> = {}): JsonSchema => ({
  type: ["integer", "string"],
  pattern: WHOLE_REFERENCE,
  minimum: 0,
  description,
  ...extra,
});
const flag = (description: string, defaultValue: boolean): JsonSchema => ({
  type: ["boolean", "string"],
  pattern: WHOLE_REFERENCE,
  description,
  default: defaultValue,
});
const object = (description: string, properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
  type: "object",
  description,
  properties,
  ...(required.length ? { required } : {}),
  additionalProperties: false,
});
/** A keyed collection; empty (`jobs:` with nothing under it) is allowed so sections can be commented out. */
const mapOf = (description: string, value: JsonSchema, keyPattern = KEY_PATTERN): JsonSchema => ({
  type: ["object", "null"],
  description,
  propertyNames: { pattern: keyPattern },
  additionalProperties: value,
});
const listOf = (description: string, item: JsonSchema): JsonSchema => ({
  type: ["array", "null"],
  description,
  items: item,
});
const ref = (name: keyof typeof definitions, description?: string): JsonSchema => ({
  $ref: `#/definitions/${name}`,
  ...(description ? { description } : {}),
});

const definitions = {
  env: mapOf(
    "Environment variables. Values are text (numbers and booleans are converted); a value may be exactly `${secret:NAME}` or `${resources.<kind>.<key>.<field>}`.",
    { type: ["string", "number", "boolean"] },
    "^[A-Za-z_][A-Za-z0-9_]*$",
  ),
  runtime: object(
    "The ML Runtime: either `identifier` (a full image identifier), or `editor` + `kernel` + `edition` (+ `version`), as listed by `GET /api/v2/runtimes`. A resource's runtime replaces `defaults.runtime` as a whole.",
    {
      identifier: text(
        "Runtime image identifier, e.g. docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-…:2025.09.1-b5",
      ),
      editor: text("Runtime editor, e.g. Workbench, JupyterLab, PBJ Workbench"),
      kernel: text("Runtime kernel, e.g. Python 3.11"),
      edition: text("Runtime edition, e.g. Standard, Nvidia GPU"),
      version: text("Runtime full version, e.g. 2025.09.1-b5 (default: the newest enabled one)"),
      addons: listOf("Runtime add-on identifiers (e.g. Spark); sent together with the runtime", { type: "string" }),
    },
  ),
} satisfies Record<string, JsonSchema>;

const preventDestroy = flag("Refuse to delete or recreate this resource (plan shows the refusal).", false);

/**
 * Switches for resources that need credentials or exist on one target only: the plan lists a switched-off
 * resource with the reason instead of failing on a missing secret.
 */
const switches = {
  enabled: flag(
    "Deploy this resource (default true). false, e.g. via ${var.x} set per target, leaves it out: plan lists it as disabled, and an existing copy is deleted.",
    true,
  ),
  requires: listOf(
    "Environment variables (or secrets) this resource needs. When one is unset or empty (a CI secret that does not exist) the resource is skipped with that reason, and an existing copy is left as it is.",
    { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
  ),
};

/**
 * Upper bounds of the number fields, far above any CML workspace's largest resource profile, so `cpu: 1e26`
 * (a typo or a hostile value) is an error here rather than a request the API rejects in the middle of an apply.
 * The resolver applies the same bounds to values that arrive through `${var.…}`.
 */
export const NUMBER_LIMITS = {
  cpu: 1024,
  memory: 16384, // GiB
  gpu: 64,
  timeout: 366 * 24 * 3600, // a year, in seconds
  replicas: 1000,
} as const;

const compute = {
  cpu: number("vCPUs (default: defaults.cpu, else 1)", { maximum: NUMBER_LIMITS.cpu }),
  memory: number("GiB of memory (default: defaults.memory, else 2)", { maximum: NUMBER_LIMITS.memory }),
  gpu: integer("NVIDIA GPUs (default: defaults.gpu, else 0)", { maximum: NUMBER_LIMITS.gpu }),
};

const job = object(
  "A CML job, identified by its name inside the project.",
  {
    name: text("CML job name (default: the key). Jobs are matched by this name."),
    script: text("Project-relative path of the script the runtime's kernel runs."),
    arguments: text("Arguments; CML passes them to the script as JOB_ARGUMENTS.", { default: "" }),
    schedule: text("Cron expression (5 fields). Exclusive with `after`."),
    after: text("Key of the job this one runs after (CML parent job). Exclusive with `schedule`."),
    runtime: ref("runtime"),
    ...compute,
    timeout: integer("Seconds before CML stops the run; 0 = no timeout.", {
      default: 0,
      maximum: NUMBER_LIMITS.timeout,
    }),
    kill_on_timeout: flag("Kill the run when the timeout is reached.", false),
    paused: flag("Create the job paused (CML cannot change this in place: a change recreates the job).", false),
    env: ref("env"),
    prevent_destroy: preventDestroy,
    ...switches,
  },
  ["script"],
);

const application = object(
  "A CML application, identified by its subdomain.",
  {
    name: text("Application name (default: the key)."),
    subdomain: text(
      "Served at <subdomain>.<workspace domain>. Lowercase letters, digits and single hyphens, at most 63 characters.",
    ),
    description: text("Description.", { default: "" }),
    script: text("Project-relative path of the script that starts the server on CDSW_APP_PORT."),
    runtime: ref("runtime"),
    ...compute,
    bypass_authentication: flag(
      "Serve without CML login (works only if an administrator allows unauthenticated applications).",
      false,
    ),
    env: ref("env"),
    after: text(
      "Key of a job that must have succeeded before this application starts: apply runs the job first when needed (an install job; see docs/manifest.md).",
    ),
    prevent_destroy: preventDestroy,
    ...switches,
  },
  ["subdomain", "script"],
);

const model = object(
  "A CML model with one build and one deployment, identified by its name.",
  {
    name: text("Model name (default: the key). Models are matched by this name."),
    description: text("Description.", { default: "" }),
    file: text("Project-relative file that defines the function."),
    function: text("The function CML calls with the request's JSON."),
    runtime: ref("runtime"),
    auth_enabled: flag("Require a CML API key to call the model (false: the model access key suffices).", true),
    deployment: object("Resources of the model deployment.", {
      ...compute,
      replicas: integer("Number of replicas.", { minimum: 1, maximum: NUMBER_LIMITS.replicas, default: 1 }),
      env: ref("env"),
    }),
    after: text(
      "Key of a job that must have succeeded before this model is built: apply runs the job first when needed (an install job; see docs/manifest.md).",
    ),
    prevent_destroy: preventDestroy,
    ...switches,
  },
  ["file", "function"],
);

const fileSync = object(
  "Copies a local file or directory into the project (by content hash: unchanged files are not uploaded).",
  {
    from: text("Local file or directory, relative to the manifest file that declares it."),
    to: text("Project-relative destination: a file path, or a directory when `from` is a directory."),
    exclude: listOf("Glob patterns, relative to `from`, to leave out.", { type: "string" }),
  },
  ["from", "to"],
);

const resourceSections = {
  files: listOf("Local files and directories synced into the project.", fileSync),
  jobs: mapOf("Jobs, keyed by a short name used in `after:` and `${resources.jobs.<key>.…}`.", job),
  applications: mapOf("Applications, keyed by a short name.", application),
  models: mapOf("Models, keyed by a short name.", model),
  include: listOf(
    "Other manifest files (relative to this one) whose `files`, `jobs`, `applications` and `models` are merged in.",
    { type: "string" },
  ),
};

const rootProperties: Record<string, JsonSchema> = {
  name: text(
    "Stack name: the identity of everything this manifest owns (stored as the CML_LAB_STACK environment value). Letters, digits, '.', '_' and '-'.",
  ),
  project: object(
    "The CML project, identified by its name.",
    {
      name: text("Project name. The project is matched by this name."),
      description: text("Description.", { default: "" }),
      visibility: {
        type: "string",
        enum: ["private", "organization", "public"],
        default: "private",
        description: "Who can see the project.",
      },
      env: ref("env", "Project environment variables (every workload in the project sees them)."),
      existing_paths: listOf(
        "Project-relative files or directories (ending in /) that are already in the project without being synced by `files:` (so scripts there pass validation).",
        { type: "string" },
      ),
      prevent_destroy: preventDestroy,
    },
    ["name"],
  ),
  variables: mapOf(
    "Variables for `${var.<name>}`. Value precedence: default < targets.<t>.variables < --var name=value < CML_LAB_VAR_<name>.",
    object("A variable.", {
      default: { type: ["string", "number", "boolean"], description: "Value when nothing else sets one." },
      description: text("What the variable is for."),
    }),
    VARIABLE_PATTERN,
  ),
  targets: mapOf(
    "Where the manifest can be deployed; chosen with --target (default: the one marked default).",
    object("A deployment target: the local platform (`local: true`) or a CML workspace (`url`).", {
      default: { type: "boolean", description: "The target used without --target.", default: false },
      local: { type: "boolean", description: "The local platform (connection from its server.json).", default: false },
      url: text("Workspace URL, e.g. ${env:CML_API_URL} (the API key comes from CML_API_KEY)."),
      variables: mapOf("Variable values for this target.", { type: ["string", "number", "boolean"] }, VARIABLE_PATTERN),
    }),
  ),
  defaults: object("Values every job, application and model gets unless it sets its own.", {
    runtime: ref("runtime"),
    ...compute,
    env: ref("env", "Environment merged under every job's, application's and model deployment's own env."),
  }),
  ...resourceSections,
};

/** The root manifest. */
export const manifestSchema: JsonSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://github.com/cml-lab/cml-lab/schema/manifest.schema.json",
  title: "cml-lab deploy manifest",
  description: "What a CML project should contain: files, jobs, applications and models. See docs/manifest.md.",
  type: "object",
  properties: rootProperties,
  required: ["name", "project"],
  additionalProperties: false,
  definitions,
};

/** A file named in `include:`: only resource sections. */
export const includeSchema: JsonSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://github.com/cml-lab/cml-lab/schema/manifest-include.schema.json",
  title: "cml-lab deploy manifest (included file)",
  description:
    "A file named in a manifest's include: list. It may declare files, jobs, applications, models and include.",
  type: "object",
  properties: resourceSections,
  additionalProperties: false,
  definitions,
};

/** The committed schema files, as written by `npm run gen:schema`. */
export function schemaFiles(): Record<string, string> {
  return {
    "manifest.schema.json": `${JSON.stringify(manifestSchema, null, 2)}\n`,
    "manifest-include.schema.json": `${JSON.stringify(includeSchema, null, 2)}\n`,
  };
}
