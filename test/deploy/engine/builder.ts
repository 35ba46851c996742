/**
 * A small typed builder of ResolvedManifest objects (the manifest loader lands separately), and a fake of what
 * CML returns for objects created from them (JSON-string environment, int64 strings, default add-ons).
 */
import type { DesiredState } from "../../../src/deploy/engine/desired.js";
import { runtimeKey } from "../../../src/deploy/engine/desired.js";
import {
  type ApplicationSpec,
  type EnvMap,
  type JobSpec,
  type ModelSpec,
  OWNER_ENV_KEY,
  type ResolvedManifest,
} from "../../../src/deploy/manifest/model.js";
import { describeWithMarker } from "../../../src/deploy/resources/model.js";
import type { LiveState } from "../../../src/deploy/stack.js";

const loc = { file: "/tmp/lab.yaml", line: 1, col: 1 };
export const RUNTIME =
  "docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-workbench-python3.11-standard:2025.09.1-b5";
const runtime = { identifier: RUNTIME };
const resources = { cpu: 1, memory: 2, gpu: 0 };

export function job(key: string, over: Partial<JobSpec> = {}): JobSpec {
  return {
    key,
    location: loc,
    preventDestroy: false,
    name: key,
    script: `workloads/${key}.py`,
    arguments: "",
    runtime,
    resources,
    timeout: 0,
    killOnTimeout: false,
    paused: false,
    env: {},
    ...over,
  };
}

export function app(key: string, over: Partial<ApplicationSpec> = {}): ApplicationSpec {
  return {
    key,
    location: loc,
    preventDestroy: false,
    name: key,
    subdomain: `${key}-app`,
    description: "",
    script: `workloads/${key}.py`,
    runtime,
    resources,
    bypassAuthentication: false,
    env: {},
    ...over,
  };
}

export function model(key: string, over: Partial<ModelSpec> = {}): ModelSpec {
  return {
    key,
    location: loc,
    preventDestroy: false,
    name: key,
    description: "",
    file: `workloads/${key}.py`,
    function: "predict",
    runtime,
    authEnabled: true,
    deployment: { resources, replicas: 1, env: {} },
    ...over,
  };
}

export function manifest(over: Partial<ResolvedManifest> = {}): ResolvedManifest {
  return {
    name: "lab",
    file: "/tmp/lab.yaml",
    target: { name: "local", local: true },
    project: { location: loc, preventDestroy: false, name: "LLM Lab", description: "", visibility: "private", env: {} },
    files: [],
    jobs: {},
    applications: {},
    models: {},
    ...over,
  };
}

export function desiredOf(m: ResolvedManifest): DesiredState {
  const runtimes = new Map(
    [...Object.values(m.jobs), ...Object.values(m.applications), ...Object.values(m.models)].map((r) => [
      runtimeKey(r.runtime),
      { identifier: "identifier" in r.runtime ? r.runtime.identifier : RUNTIME },
    ]),
  );
  const modelSources = new Map(Object.keys(m.models).map((k) => [k, `sha256:source-of-${k}`]));
  return { manifest: m, runtimes, files: new Map(), modelSources };
}

function wireEnv(env: EnvMap, stack: string | undefined): string {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) out[k] = typeof v === "string" ? v : v.kind === "secret" ? v.value : "?";
  if (stack) out[OWNER_ENV_KEY] = stack;
  return JSON.stringify(out);
}

let nextId = 1;
const id = () => `0000-0000-0000-${String(nextId++).padStart(4, "0")}`;

/** What CML would return after creating everything in `m` (marked by `owner`, or unmarked when null). */
export function liveOf(m: ResolvedManifest, owner: string | null = m.name): LiveState {
  const stack = owner ?? undefined;
  const jobIds = new Map(Object.keys(m.jobs).map((k) => [k, id()]));
  return {
    projects: [
      {
        id: "proj-0000-0000-0001",
        name: m.project.name,
        description: m.project.description,
        visibility: m.project.visibility,
        // CML injects keys of its own into project environments.
        environment: JSON.stringify({ ...JSON.parse(wireEnv(m.project.env, stack)), CML_INJECTED: "x" }),
        creation_status: "success",
      },
    ],
    jobs: Object.entries(m.jobs).map(([k, j]) => ({
      id: jobIds.get(k),
      name: j.name,
      script: j.script,
      arguments: j.arguments,
      schedule: j.schedule ?? "",
      parent_id: j.after ? jobIds.get(j.after) : "",
      runtime_identifier: RUNTIME,
      runtime_addon_identifiers: ["hadoop-cli-7.2.16-hf1"],
      cpu: j.resources.cpu,
      memory: j.resources.memory,
      nvidia_gpu: j.resources.gpu,
      timeout: String(j.timeout),
      kill_on_timeout: j.killOnTimeout,
      paused: j.paused,
      timezone: "America/Los_Angeles",
      environment: wireEnv(j.env, stack),
      type: j.after ? "dependent" : "manual",
    })),
    applications: Object.values(m.applications).map((a) => ({
      id: id(),
      name: a.name,
      subdomain: a.subdomain,
      description: a.description,
      script: a.script,
      runtime_identifier: RUNTIME,
      runtime_addon_identifiers: ["hadoop-cli-7.2.16-hf1"],
      cpu: a.resources.cpu,
      memory: a.resources.memory,
      nvidia_gpu: a.resources.gpu,
      bypass_authentication: a.bypassAuthentication,
      environment: wireEnv(a.env, stack),
      status: "APPLICATION_RUNNING",
    })),
    models: Object.entries(m.models).map(([k, md]) => {
      const buildId = id();
      return {
        model: {
          id: id(),
          name: md.name,
          description: stack ? describeWithMarker(md.description, stack) : md.description,
          auth_enabled: md.authEnabled,
          access_key: `key-${k}`,
        },
        builds: [
          {
            id: buildId,
            comment: `cml-lab source=sha256:source-of-${k}`,
            file_path: md.file,
            function_name: md.function,
            runtime_identifier: RUNTIME,
            status: "built",
          },
        ],
        deployments: [
          {
            id: id(),
            build_id: buildId,
            cpu: md.deployment.resources.cpu,
            memory: md.deployment.resources.memory,
            nvidia_gpu: md.deployment.resources.gpu,
            replicas: md.deployment.replicas,
            environment: wireEnv(md.deployment.env, stack),
            status: "deployed",
          },
        ],
      };
    }),
  };
}
