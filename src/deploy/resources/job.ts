/**
 * Jobs. Identity: name within the project, plus the marker in `environment`. Dependent jobs use `parent_id`.
 */
import { envToWire, findOneByName, listAll, runtimePair, type Schemas, unwrap } from "../../client/index.js";
import { createIdempotently, deleteIfPresent } from "../engine/idempotent.js";
import type { LiveState } from "../engine/kind.js";
import type { JobSpec, ResolvedManifest } from "../manifest/model.js";
import { desiredEnvFields, envDeps, liveEnvFields, ownerOf, resolveEnv } from "./env.js";
import { filesHolding } from "./files.js";
import { declaredName, nameOf, requireId, requireSpec } from "./keys.js";
import { resolvedRuntime } from "./runtime.js";
import {
  type ApplyContext,
  type FieldMap,
  type FieldRules,
  type Job,
  type KindAdapter,
  type NormaliseContext,
  slot,
} from "./types.js";

export function jobsOf(live: LiveState): Job[] {
  return slot<Job[]>(live, "jobs", []);
}

/** The live job a manifest job is: the one with its exact name. */
function matchJob(spec: JobSpec, live: LiveState): Job | undefined {
  return jobsOf(live).find((j) => j.name === spec.name);
}

function keepsThrough(manifest: ResolvedManifest, name: string | undefined): boolean {
  return Object.values(manifest.jobs).some((s) => s.preventDestroy && s.name === name);
}

export const jobRules: FieldRules = {
  recreateOn: {
    // CML answers 200 to a PATCH of `paused` and ignores it; there is no pause endpoint (openapi/FACTS.md §6).
    paused: "CML ignores `paused` on update (openapi/FACTS.md §6)",
  },
  serverDefaults: {
    // An unset arguments/schedule comes back as "" (a manual job).
    arguments: "",
    schedule: "",
    after: "",
    // `timeout` comes back as an int64 string, "0" or absent when none.
    timeout: 0,
    kill_on_timeout: false,
    paused: false,
    "resources.gpu": 0,
  },
};

export function jobDesiredFields(spec: JobSpec, ctx: NormaliseContext): FieldMap {
  const runtime = resolvedRuntime(ctx.desired, spec.runtime);
  return {
    script: spec.script,
    arguments: spec.arguments,
    schedule: spec.schedule ?? "",
    after: spec.after ? `jobs.${spec.after}` : "",
    runtime: runtime.identifier,
    addons: runtime.addons ? [...runtime.addons].sort() : undefined,
    "resources.cpu": spec.resources.cpu,
    "resources.memory": spec.resources.memory,
    "resources.gpu": spec.resources.gpu,
    timeout: spec.timeout,
    kill_on_timeout: spec.killOnTimeout,
    // `paused` means something only for a scheduled job (and is sent only with a schedule).
    paused: spec.schedule ? spec.paused : false,
    ...desiredEnvFields(spec.env, ctx),
  };
}

export function jobLiveFields(job: Job, spec: JobSpec, ctx: NormaliseContext): FieldMap {
  const runtime = resolvedRuntime(ctx.desired, spec.runtime);
  return {
    script: job.script,
    arguments: job.arguments,
    schedule: job.schedule,
    after: job.parent_id ? parentKey(job.parent_id, ctx) : "",
    runtime: job.runtime_identifier,
    // CML adds default add-ons (e.g. hadoop-cli) when none are named; compare them only when the manifest names some.
    addons: runtime.addons ? [...(job.runtime_addon_identifiers ?? [])].sort() : undefined,
    "resources.cpu": job.cpu,
    "resources.memory": job.memory,
    "resources.gpu": job.nvidia_gpu,
    timeout: Number(job.timeout || 0),
    kill_on_timeout: job.kill_on_timeout,
    paused: job.schedule ? job.paused : false,
    ...liveEnvFields(job.environment, spec.env, ctx),
  };
}

/** A live parent id as the manifest would name it: `jobs.<key>` when the parent is one of ours. */
function parentKey(parentId: string, ctx: NormaliseContext): string {
  const parent = jobsOf(ctx.live).find((j) => j.id === parentId);
  const key = Object.entries(ctx.desired.manifest.jobs).find(([, s]) => s.name === parent?.name)?.[0];
  return key ? `jobs.${key}` : `(job ${parent?.name ?? parentId})`;
}

function parentId(spec: JobSpec, ctx: ApplyContext): string | undefined {
  if (!spec.after) return undefined;
  const id = ctx.outputs.get(`jobs.${spec.after}`)?.id;
  if (!id) throw new Error(`jobs.${spec.after} has no id yet`);
  return id;
}

export function jobOutputs(job: Job): Record<string, string> {
  return { id: requireId(job.id, "a job"), name: job.name ?? "" };
}

export const jobAdapter = {
  kind: "jobs",
  rules: jobRules,
  owns: (key) => key.startsWith("jobs."),
  async read(ctx): Promise<Job[]> {
    const project_id = ctx.projectId;
    if (!project_id) return [];
    return listAll(
      (page_token) =>
        ctx.api.GET("/api/v2/projects/{project_id}/jobs", {
          params: { path: { project_id }, query: { page_size: 100, page_token } },
        }),
      (page) => page.jobs,
    );
  },
  *plan(ctx) {
    for (const [key, spec] of Object.entries(ctx.desired.manifest.jobs)) {
      const job = matchJob(spec, ctx.live);
      yield {
        key: `jobs.${key}`,
        dependsOn: [
          "project",
          ...filesHolding(ctx.desired, spec.script),
          ...envDeps(spec.env),
          ...(spec.after ? [`jobs.${spec.after}` as const] : []),
        ],
        want: jobDesiredFields(spec, ctx),
        ...(job ? { have: jobLiveFields(job, spec, ctx), id: job.id, owner: { stack: ownerOf(job.environment) } } : {}),
        preventDestroy: spec.preventDestroy,
      };
    }
  },
  // A recreated job gets a new id: the jobs that run after it must be re-pointed in the same apply.
  finish(ctx) {
    for (const [key, spec] of Object.entries(ctx.desired.manifest.jobs)) {
      const child = ctx.planned(`jobs.${key}`);
      const parent = spec.after ? ctx.planned(`jobs.${spec.after}`) : undefined;
      if (!child || parent?.action !== "recreate" || (child.action !== "skip" && child.action !== "update")) continue;
      if (child.changes.some((c) => c.path === "after")) continue;
      child.action = "update";
      child.changes.push({
        path: "after",
        action: "update",
        reason: `${parent.key} is recreated`,
        old: parent.key,
        new: { knownAfterApply: `${parent.key}.id` },
      });
    }
  },
  existing: (ctx) =>
    jobsOf(ctx.live).map((j) => ({
      key: `jobs.${declaredName(ctx.desired.manifest.jobs, (s) => matchJob(s, ctx.live)?.id, j.id) ?? j.name ?? j.id}` as const,
      id: j.id,
      owner: ownerOf(j.environment),
      preventDestroy: keepsThrough(ctx.desired.manifest, j.name),
    })),
  outputs(key, { desired, live }) {
    const spec = desired.manifest.jobs[nameOf(key)];
    const job = spec ? matchJob(spec, live) : undefined;
    return job?.id ? jobOutputs(job) : undefined;
  },
  async create(ctx, entry) {
    const spec = requireSpec(ctx.desired.manifest.jobs, entry.key);
    const runtime = resolvedRuntime(ctx.desired, spec.runtime);
    const project_id = ctx.projectId();
    const body: Schemas["CreateJobRequest"] = {
      name: spec.name,
      script: spec.script,
      arguments: spec.arguments,
      cpu: spec.resources.cpu,
      memory: spec.resources.memory,
      nvidia_gpu: spec.resources.gpu,
      timeout: spec.timeout,
      kill_on_timeout: spec.killOnTimeout,
      environment: resolveEnv(spec.env, ctx),
      runtime_identifier: runtime.identifier,
      ...(runtime.addons ? { runtime_addon_identifiers: [...runtime.addons] } : {}),
      ...(spec.schedule ? { schedule: spec.schedule, paused: spec.paused } : {}),
      ...(spec.after ? { parent_id: parentId(spec, ctx) } : {}),
    };
    const job = await createIdempotently(
      () => unwrap(ctx.api.POST("/api/v2/projects/{project_id}/jobs", { params: { path: { project_id } }, body })),
      () => findJob(ctx, spec.name),
      ctx.signal,
    );
    return jobOutputs(job);
  },
  async update(ctx, entry) {
    const spec = requireSpec(ctx.desired.manifest.jobs, entry.key);
    const id = requireId(entry.id, entry.key);
    const changed = new Set(entry.changes.map((c) => c.path.split(".")[0]));
    const runtime = resolvedRuntime(ctx.desired, spec.runtime);
    // PATCH is partial (openapi/FACTS.md §4): send only what changed, the runtime always with its add-ons.
    const body: Schemas["Job"] = {
      ...(changed.has("script") ? { script: spec.script } : {}),
      ...(changed.has("arguments") ? { arguments: spec.arguments } : {}),
      ...(changed.has("schedule") ? { schedule: spec.schedule ?? "" } : {}),
      ...(changed.has("after") ? { parent_id: parentId(spec, ctx) ?? "" } : {}),
      ...(changed.has("resources")
        ? { cpu: spec.resources.cpu, memory: spec.resources.memory, nvidia_gpu: spec.resources.gpu }
        : {}),
      ...(changed.has("timeout") ? { timeout: String(spec.timeout) } : {}),
      ...(changed.has("kill_on_timeout") ? { kill_on_timeout: spec.killOnTimeout } : {}),
      ...(changed.has("env") ? { environment: envToWire(resolveEnv(spec.env, ctx)) } : {}),
      ...(changed.has("runtime") || changed.has("addons") ? runtimePair(runtime.identifier, runtime.addons ?? []) : {}),
    };
    const job = await unwrap(
      ctx.api.PATCH("/api/v2/projects/{project_id}/jobs/{job.id}", {
        params: { path: { project_id: ctx.projectId(), "job.id": id } },
        body,
      }),
    );
    return { ...jobOutputs(job), id };
  },
  async delete(ctx, entry) {
    const id = requireId(entry.id, entry.key);
    await deleteIfPresent(() =>
      unwrap(
        ctx.api.DELETE("/api/v2/projects/{project_id}/jobs/{job_id}", {
          params: { path: { project_id: ctx.projectId(), job_id: id } },
        }),
      ),
    );
  },
} satisfies KindAdapter;

async function findJob(ctx: ApplyContext, name: string): Promise<Job | undefined> {
  const job = await findOneByName(ctx.api, "job", { projectId: ctx.projectId(), name });
  return job && ownerOf(job.environment) === ctx.stack ? job : undefined;
}
