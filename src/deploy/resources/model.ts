/**
 * Models: model → build → deployment, three plan entries (`models.x`, `models.x.build`, `models.x.deployment`).
 * Models have no environment, so the ownership marker is a line at the end of the description. Builds and
 * deployments are immutable (openapi/FACTS.md §6): a change makes a new build (only when the source hash, file, function
 * or runtime changed; the hash rides in the build comment) and a new deployment (only when the build or the
 * deployment settings changed), and the previous deployment is stopped only after the new one serves.
 */
import { type CmlClient, findOneByName, listAll, type Schemas, unwrap, waits } from "../../client/index.js";
import { createIdempotently, deleteIfPresent } from "../engine/idempotent.js";
import type { LiveState } from "../engine/kind.js";
import type { ModelSpec, ResourceKey } from "../manifest/model.js";
import { desiredEnvFields, envDeps, liveEnvFields, resolveEnv } from "./env.js";
import { filesHolding } from "./files.js";
import { afterJobDeps, runAfterJob } from "./job-first.js";
import { declaredName, nameOf, requireId, requireSpec } from "./keys.js";
import { unlessUnimplemented } from "./read.js";
import { resolvedRuntime } from "./runtime.js";
import {
  type ApplyContext,
  type FieldMap,
  type FieldRules,
  type KindAdapter,
  type Model,
  type ModelBuild,
  type ModelDeployment,
  type NormaliseContext,
  slot,
} from "./types.js";

export interface LiveModel {
  model: Model & { id: string };
  /** Builds, newest first. */
  builds: ModelBuild[];
  /** Deployments of the newest build, newest first. */
  deployments: ModelDeployment[];
}

export function modelsOf(live: LiveState): LiveModel[] {
  return slot<LiveModel[]>(live, "models", []);
}

function matchModel(spec: ModelSpec, live: LiveState): LiveModel | undefined {
  return modelsOf(live).find((lm) => lm.model.name === spec.name);
}

const PAGE = 100;

async function readModel(api: CmlClient, project_id: string, model: Model & { id: string }): Promise<LiveModel> {
  const builds = byNewest(
    await listAll(
      (page_token) =>
        api.GET("/api/v2/projects/{project_id}/models/{model_id}/builds", {
          params: { path: { project_id, model_id: model.id }, query: { page_size: PAGE, page_token } },
        }),
      (page) => page.model_builds,
    ),
  );
  const latest = builds[0]?.id;
  const deployments = latest
    ? byNewest(
        await listAll(
          (page_token) =>
            api.GET("/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/deployments", {
              params: {
                path: { project_id, model_id: model.id, build_id: latest },
                query: { page_size: PAGE, page_token },
              },
            }),
          (page) => page.model_deployments,
        ),
      )
    : [];
  return { model, builds, deployments };
}

function byNewest<T extends { created_at?: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? ""));
}

const MARKER = /\s*\[cml-lab stack=([^\]\s]+)\]\s*$/;

export function describeWithMarker(description: string, stack: string): string {
  return `${description}${description ? "\n\n" : ""}[cml-lab stack=${stack}]`;
}

export function modelOwner(model: Model): string | undefined {
  return MARKER.exec(model.description ?? "")?.[1];
}

function stripMarker(description: string | undefined): string {
  return (description ?? "").replace(MARKER, "");
}

const BUILD_COMMENT = /cml-lab source=(\S+)/;

export function buildSource(build: ModelBuild): string | undefined {
  return BUILD_COMMENT.exec(build.comment ?? "")?.[1];
}

const FAILED_BUILD = new Set(["build failed", "timedout", "failed"]);
const FAILED_DEPLOYMENT = new Set(["failed", "stopped", "stopping"]);

export const modelRules: FieldRules = {
  recreateOn: {
    // UpdateSingleModel has no disable_authentication (openapi/FACTS.md §6).
    auth_enabled: "CML cannot change a model's authentication after creation",
  },
  serverDefaults: { description: "" },
};

export const buildRules: FieldRules = { recreateOn: {}, serverDefaults: { state: "ok" } };
export const deploymentRules: FieldRules = { recreateOn: {}, serverDefaults: { state: "ok", "resources.gpu": 0 } };

export function modelDesiredFields(spec: ModelSpec, ctx: NormaliseContext): FieldMap {
  return { description: spec.description, auth_enabled: spec.authEnabled, owner: ctx.stack };
}

export function modelLiveFields(live: LiveModel): FieldMap {
  return {
    description: stripMarker(live.model.description),
    auth_enabled: live.model.auth_enabled,
    owner: modelOwner(live.model),
  };
}

export function buildDesiredFields(key: string, spec: ModelSpec, ctx: NormaliseContext): FieldMap {
  const runtime = resolvedRuntime(ctx.desired, spec.runtime);
  return {
    source: ctx.desired.modelSources.get(key),
    file: spec.file,
    function: spec.function,
    runtime: runtime.identifier,
    addons: runtime.addons ? [...runtime.addons].sort() : undefined,
  };
}

export function buildLiveFields(build: ModelBuild, spec: ModelSpec, ctx: NormaliseContext): FieldMap {
  const runtime = resolvedRuntime(ctx.desired, spec.runtime);
  return {
    source: buildSource(build),
    file: build.file_path,
    function: build.function_name,
    runtime: build.runtime_identifier,
    addons: runtime.addons ? [...(build.runtime_addon_identifiers ?? [])].sort() : undefined,
    // A failed build is no build: the next apply tries again.
    state: FAILED_BUILD.has(build.status ?? "") ? `build ${build.status}` : "ok",
  };
}

export function deploymentDesiredFields(spec: ModelSpec, buildId: string | undefined, ctx: NormaliseContext): FieldMap {
  return {
    build: buildId ?? { knownAfterApply: "new build" },
    "resources.cpu": spec.deployment.resources.cpu,
    "resources.memory": spec.deployment.resources.memory,
    "resources.gpu": spec.deployment.resources.gpu,
    replicas: spec.deployment.replicas,
    ...desiredEnvFields(spec.deployment.env, ctx),
  };
}

export function deploymentLiveFields(d: ModelDeployment, spec: ModelSpec, ctx: NormaliseContext): FieldMap {
  return {
    build: d.build_id,
    "resources.cpu": d.cpu,
    "resources.memory": d.memory,
    "resources.gpu": d.nvidia_gpu,
    replicas: d.replicas,
    state: FAILED_DEPLOYMENT.has(d.status ?? "") ? `deployment ${d.status}` : "ok",
    ...liveEnvFields(d.environment, spec.deployment.env, ctx),
  };
}

function modelOutputs(model: Model): Record<string, string> {
  return {
    id: requireId(model.id, "a model"),
    access_key: model.access_key ?? "",
    crn: model.crn ?? "",
    name: model.name ?? "",
  };
}

function modelId(ctx: ApplyContext, key: ResourceKey): string {
  const id = ctx.outputs.get(`models.${nameOf(key)}`)?.id;
  if (!id) throw new Error(`models.${nameOf(key)} has no id yet`);
  return id;
}

/** `models.<key>`, not its build or deployment entries. */
const isModelKey = (key: ResourceKey) =>
  key.startsWith("models.") && !key.endsWith(".build") && !key.endsWith(".deployment");

export const modelAdapter = {
  kind: "models",
  rules: modelRules,
  owns: isModelKey,
  async read(ctx): Promise<LiveModel[]> {
    const project_id = ctx.projectId;
    if (!project_id) return [];
    const needed = !ctx.manifest || Object.keys(ctx.manifest.models).length > 0;
    const models = await unlessUnimplemented(needed, () =>
      listAll(
        (page_token) =>
          ctx.api.GET("/api/v2/projects/{project_id}/models", {
            params: { path: { project_id }, query: { page_size: PAGE, page_token } },
          }),
        (page) => page.models,
      ),
    );
    return Promise.all(
      models
        .filter((m): m is Model & { id: string } => typeof m.id === "string")
        .map((model) => readModel(ctx.api, project_id, model)),
    );
  },
  /** Model → build → deployment: three entries per model, each planned from the one before. */
  *plan(ctx) {
    for (const [key, spec] of Object.entries(ctx.desired.manifest.models)) {
      const lm = matchModel(spec, ctx.live);
      yield {
        key: `models.${key}`,
        dependsOn: ["project"],
        want: modelDesiredFields(spec, ctx),
        ...(lm ? { have: modelLiveFields(lm), id: lm.model.id, owner: { stack: modelOwner(lm.model) } } : {}),
        preventDestroy: spec.preventDestroy,
      };
      const modelEntry = ctx.planned(`models.${key}`);
      // Not ours: its build and deployment are not either.
      if (!modelEntry) continue;
      const fresh = modelEntry.action === "create" || modelEntry.action === "recreate";
      const latest = fresh ? undefined : lm?.builds[0];
      yield {
        key: `models.${key}.build`,
        dependsOn: [`models.${key}`, ...filesHolding(ctx.desired, spec.file), ...afterJobDeps(spec.after, ctx)],
        want: buildDesiredFields(key, spec, ctx),
        ...(latest ? { have: buildLiveFields(latest, spec, ctx), id: latest.id } : {}),
      };
      const buildEntry = ctx.planned(`models.${key}.build`);
      const deployment = latest ? lm?.deployments[0] : undefined;
      yield {
        key: `models.${key}.deployment`,
        dependsOn: [`models.${key}.build`, ...envDeps(spec.deployment.env)],
        want: deploymentDesiredFields(spec, buildEntry?.action === "skip" ? latest?.id : undefined, ctx),
        ...(deployment ? { have: deploymentLiveFields(deployment, spec, ctx), id: deployment.id } : {}),
      };
    }
  },
  existing: (ctx) =>
    modelsOf(ctx.live).map((lm) => ({
      key: `models.${declaredName(ctx.desired.manifest.models, (s) => matchModel(s, ctx.live)?.model.id, lm.model.id) ?? lm.model.name ?? lm.model.id}` as const,
      id: lm.model.id,
      owner: modelOwner(lm.model),
      preventDestroy: Object.values(ctx.desired.manifest.models).some(
        (s) => s.preventDestroy && s.name === lm.model.name,
      ),
    })),
  outputs(key, { desired, live }) {
    const spec = desired.manifest.models[nameOf(key)];
    const lm = spec ? matchModel(spec, live) : undefined;
    return lm ? modelOutputs(lm.model) : undefined;
  },
  async create(ctx, entry) {
    const spec = requireSpec(ctx.desired.manifest.models, entry.key);
    const project_id = ctx.projectId();
    const model = await createIdempotently(
      () =>
        unwrap(
          ctx.api.POST("/api/v2/projects/{project_id}/models", {
            params: { path: { project_id } },
            body: {
              project_id,
              name: spec.name,
              description: describeWithMarker(spec.description, ctx.stack),
              disable_authentication: !spec.authEnabled,
            },
          }),
        ),
      async () => {
        const found = await findOneByName(ctx.api, "model", { projectId: project_id, name: spec.name });
        return found && modelOwner(found) === ctx.stack ? found : undefined;
      },
      ctx.signal,
    );
    return modelOutputs(model);
  },
  async update(ctx, entry) {
    const spec = requireSpec(ctx.desired.manifest.models, entry.key);
    const id = requireId(entry.id, entry.key);
    const model = await unwrap(
      ctx.api.PATCH("/api/v2/projects/{project_id}/models/{model.id}", {
        params: { path: { project_id: ctx.projectId(), "model.id": id } },
        body: { description: describeWithMarker(spec.description, ctx.stack) },
      }),
    );
    return modelOutputs({ ...model, id });
  },
  async delete(ctx, entry) {
    const id = requireId(entry.id, entry.key);
    await deleteIfPresent(() =>
      unwrap(
        ctx.api.DELETE("/api/v2/projects/{project_id}/models/{model_id}", {
          params: { path: { project_id: ctx.projectId(), model_id: id } },
        }),
      ),
    );
  },
} satisfies KindAdapter;

async function build(ctx: ApplyContext, entry: { key: ResourceKey }): Promise<Record<string, string>> {
  const key = nameOf(entry.key);
  const spec = requireSpec(ctx.desired.manifest.models, entry.key);
  const runtime = resolvedRuntime(ctx.desired, spec.runtime);
  const project_id = ctx.projectId();
  const model_id = modelId(ctx, entry.key);
  const source = ctx.desired.modelSources.get(key) ?? "";
  await runAfterJob(ctx, spec.after);
  const body: Schemas["CreateModelBuildRequest"] = {
    project_id,
    model_id,
    file_path: spec.file,
    function_name: spec.function,
    runtime_identifier: runtime.identifier,
    ...(runtime.addons ? { runtime_addon_identifiers: [...runtime.addons] } : {}),
    comment: `cml-lab source=${source}`,
  };
  const created = await createIdempotently(
    () =>
      unwrap(
        ctx.api.POST("/api/v2/projects/{project_id}/models/{model_id}/builds", {
          params: { path: { project_id, model_id } },
          body,
        }),
      ),
    async () => {
      const builds = await unwrap(
        ctx.api.GET("/api/v2/projects/{project_id}/models/{model_id}/builds", {
          params: { path: { project_id, model_id }, query: { page_size: 100 } },
        }),
      );
      return (builds.model_builds ?? []).find((b) => buildSource(b) === source && !FAILED_BUILD.has(b.status ?? ""));
    },
    ctx.signal,
  );
  const id = requireId(created.id, `${entry.key}`);
  try {
    await waits.modelBuildBuilt(ctx.api, project_id, model_id, id, ctx.wait(`${entry.key} to be built`));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Nothing is rolled back silently: the previous deployment, if any, is untouched and keeps serving.
    throw new Error(`${message}; the previous deployment (if any) keeps serving`, { cause: error });
  }
  return { id, model_id };
}

export const buildAdapter = {
  kind: "builds",
  rules: buildRules,
  owns: (key) => key.startsWith("models.") && key.endsWith(".build"),
  // Planned with its model (modelAdapter.plan).
  plan: () => [],
  outputs: () => undefined,
  create: build,
  update: build,
  // A build goes with its model.
  async delete() {},
} satisfies KindAdapter;

async function deploy(ctx: ApplyContext, entry: { key: ResourceKey; id?: string }): Promise<Record<string, string>> {
  const spec = requireSpec(ctx.desired.manifest.models, entry.key);
  const project_id = ctx.projectId();
  const model_id = modelId(ctx, entry.key);
  const buildKey: ResourceKey = `models.${nameOf(entry.key)}.build`;
  const build_id = ctx.outputs.get(buildKey)?.id;
  if (!build_id) throw new Error(`${buildKey} has no id yet`);
  const environment = resolveEnv(spec.deployment.env, ctx);
  const body: Schemas["CreateModelDeploymentRequest"] = {
    project_id,
    model_id,
    build_id,
    cpu: spec.deployment.resources.cpu,
    memory: spec.deployment.resources.memory,
    nvidia_gpus: spec.deployment.resources.gpu,
    replicas: spec.deployment.replicas,
    environment,
  };
  const path = { project_id, model_id, build_id };
  const created = await createIdempotently(
    () =>
      unwrap(
        ctx.api.POST("/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/deployments", {
          params: { path },
          body,
        }),
      ),
    async () => {
      const list = await unwrap(
        ctx.api.GET("/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/deployments", {
          params: { path, query: { page_size: 100 } },
        }),
      );
      return (list.model_deployments ?? []).find(
        (d) => !FAILED_DEPLOYMENT.has(d.status ?? "") && d.id !== entry.id && d.replicas === body.replicas,
      );
    },
    ctx.signal,
  );
  const id = requireId(created.id, entry.key);
  await waits.modelDeploymentDeployed(
    ctx.api,
    { projectId: project_id, modelId: model_id, buildId: build_id, deploymentId: id },
    ctx.wait(`${entry.key} to be deployed`),
  );
  const previous = modelsOf(ctx.live).find((m) => m.model.id === model_id)?.deployments[0];
  if (previous?.id && previous.id !== id && previous.build_id && !FAILED_DEPLOYMENT.has(previous.status ?? "")) {
    await deleteIfPresent(() =>
      unwrap(
        ctx.api.POST(
          "/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/deployments/{deployment_id}:stop",
          {
            params: {
              path: { project_id, model_id, build_id: previous.build_id ?? "", deployment_id: previous.id ?? "" },
            },
          },
        ),
      ),
    );
  }
  return { id, build_id };
}

export const deploymentAdapter = {
  kind: "deployments",
  rules: deploymentRules,
  owns: (key) => key.startsWith("models.") && key.endsWith(".deployment"),
  // Planned with its model (modelAdapter.plan).
  plan: () => [],
  outputs(key, { desired, live }) {
    const spec = desired.manifest.models[nameOf(key)];
    const d = spec ? matchModel(spec, live)?.deployments[0] : undefined;
    return d?.id ? { id: d.id, build_id: d.build_id ?? "" } : undefined;
  },
  create: deploy,
  update: deploy,
  // A deployment goes with its model.
  async delete() {},
} satisfies KindAdapter;
