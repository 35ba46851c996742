/**
 * Applications. Identity: subdomain (unique per workspace; cmlutils uses it the same way), plus the marker in
 * `environment`. Creating one starts it; a PATCH does not restart it, so an update is PATCH + one `:restart`
 * (openapi/FACTS.md §6), and both wait (bounded) for APPLICATION_RUNNING.
 */
import {
  envToWire,
  findApplicationBySubdomain,
  listAll,
  runtimePair,
  type Schemas,
  unwrap,
  waits,
} from "../../client/index.js";
import { createIdempotently, deleteIfPresent } from "../engine/idempotent.js";
import type { LiveState, Platform } from "../engine/kind.js";
import type { ApplicationSpec, ResolvedManifest } from "../manifest/model.js";
import { desiredEnvFields, envDeps, liveEnvFields, ownerOf, resolveEnv } from "./env.js";
import { filesHolding } from "./files.js";
import { afterJobDeps, runAfterJob } from "./job-first.js";
import { declaredName, nameOf, requireId, requireSpec } from "./keys.js";
import { logTail } from "./log-tail.js";
import { unlessUnimplemented } from "./read.js";
import { resolvedRuntime } from "./runtime.js";
import {
  type Application,
  type ApplyContext,
  type FieldMap,
  type FieldRules,
  type KindAdapter,
  type NormaliseContext,
  slot,
} from "./types.js";

/**
 * A live application with its URL, for `${resources.applications.<key>.url}`. The API has no URL field: the
 * platform supplies it (computed from the subdomain on a workspace, asked on the local platform).
 */
export type LiveApplication = Application & { url?: string };

export function applicationsOf(live: LiveState): LiveApplication[] {
  return slot<LiveApplication[]>(live, "applications", []);
}

/** By subdomain; failing that, our application of the same name under its old subdomain (a recreate). */
function matchApplication(spec: ApplicationSpec, manifest: ResolvedManifest, live: LiveState) {
  const apps = applicationsOf(live);
  return (
    apps.find((a) => a.subdomain === spec.subdomain) ??
    apps.find(
      (a) =>
        a.name === spec.name &&
        ownerOf(a.environment) === manifest.name &&
        !Object.values(manifest.applications).some((s) => s.subdomain === a.subdomain),
    )
  );
}

async function withUrls(apps: Application[], projectId: string, platform: Platform): Promise<LiveApplication[]> {
  return Promise.all(
    apps.map(async (a) => {
      const url = a.id && a.subdomain ? await platform.appUrl({ id: a.id, subdomain: a.subdomain, projectId }) : "";
      return url ? { ...a, url } : a;
    }),
  );
}

/** A created or changed application's URL joins its outputs, for dependents' `${resources…url}` references. */
async function withUrl(ctx: ApplyContext, out: Record<string, string>): Promise<Record<string, string>> {
  if (out.url || !out.id) return out;
  const url = await ctx.platform.appUrl({ id: out.id, subdomain: out.subdomain ?? "", projectId: ctx.projectId() });
  return url ? { ...out, url } : out;
}

export const applicationRules: FieldRules = {
  recreateOn: {
    // The subdomain is the application's identity here; moving it is a new application (issue #7).
    subdomain: "the subdomain is the application's identity",
  },
  serverDefaults: {
    description: "",
    bypass_authentication: false,
    "resources.gpu": 0,
  },
};

export function applicationDesiredFields(spec: ApplicationSpec, ctx: NormaliseContext): FieldMap {
  const runtime = resolvedRuntime(ctx.desired, spec.runtime);
  return {
    name: spec.name,
    subdomain: spec.subdomain,
    description: spec.description,
    script: spec.script,
    runtime: runtime.identifier,
    addons: runtime.addons ? [...runtime.addons].sort() : undefined,
    "resources.cpu": spec.resources.cpu,
    "resources.memory": spec.resources.memory,
    "resources.gpu": spec.resources.gpu,
    bypass_authentication: spec.bypassAuthentication,
    state: "running",
    ...desiredEnvFields(spec.env, ctx),
  };
}

export function applicationLiveFields(app: Application, spec: ApplicationSpec, ctx: NormaliseContext): FieldMap {
  const runtime = resolvedRuntime(ctx.desired, spec.runtime);
  return {
    name: app.name,
    subdomain: app.subdomain,
    description: app.description,
    script: app.script,
    runtime: app.runtime_identifier,
    addons: runtime.addons ? [...(app.runtime_addon_identifiers ?? [])].sort() : undefined,
    "resources.cpu": app.cpu,
    "resources.memory": app.memory,
    "resources.gpu": app.nvidia_gpu,
    bypass_authentication: app.bypass_authentication,
    // A stopped or failed application is restarted by apply (a starting one is left to finish).
    state: app.status === "APPLICATION_FAILED" || app.status === "APPLICATION_STOPPED" ? app.status : "running",
    ...liveEnvFields(app.environment, spec.env, ctx),
  };
}

export function applicationOutputs(app: Application, url?: string): Record<string, string> {
  return {
    id: requireId(app.id, "an application"),
    subdomain: app.subdomain ?? "",
    name: app.name ?? "",
    status: app.status ?? "",
    ...(url ? { url } : {}),
  };
}

export const applicationAdapter = {
  kind: "applications",
  rules: applicationRules,
  owns: (key) => key.startsWith("applications."),
  async read(ctx): Promise<LiveApplication[]> {
    const project_id = ctx.projectId;
    if (!project_id) return [];
    const needed = !ctx.manifest || Object.keys(ctx.manifest.applications).length > 0;
    const apps = await unlessUnimplemented(needed, () =>
      listAll(
        (page_token) =>
          ctx.api.GET("/api/v2/projects/{project_id}/applications", {
            params: { path: { project_id }, query: { page_size: 100, page_token } },
          }),
        (page) => page.applications,
      ),
    );
    return withUrls(apps, project_id, ctx.platform);
  },
  *plan(ctx) {
    const manifest = ctx.desired.manifest;
    for (const [key, spec] of Object.entries(manifest.applications)) {
      const app = matchApplication(spec, manifest, ctx.live);
      yield {
        key: `applications.${key}`,
        dependsOn: [
          "project",
          ...filesHolding(ctx.desired, spec.script),
          ...envDeps(spec.env),
          ...afterJobDeps(spec.after, ctx),
        ],
        want: applicationDesiredFields(spec, ctx),
        ...(app
          ? { have: applicationLiveFields(app, spec, ctx), id: app.id, owner: { stack: ownerOf(app.environment) } }
          : {}),
        preventDestroy: spec.preventDestroy,
      };
    }
  },
  existing: (ctx) =>
    applicationsOf(ctx.live).map((a) => ({
      key: `applications.${declaredName(ctx.desired.manifest.applications, (s) => matchApplication(s, ctx.desired.manifest, ctx.live)?.id, a.id) ?? a.subdomain ?? a.name ?? a.id}` as const,
      id: a.id,
      owner: ownerOf(a.environment),
      preventDestroy: Object.values(ctx.desired.manifest.applications).some(
        (s) => s.preventDestroy && s.name === a.name,
      ),
    })),
  outputs(key, { desired, live }) {
    const spec = desired.manifest.applications[nameOf(key)];
    const app = spec ? matchApplication(spec, desired.manifest, live) : undefined;
    return app ? applicationOutputs(app, app.url) : undefined;
  },
  async create(ctx, entry) {
    const spec = requireSpec(ctx.desired.manifest.applications, entry.key);
    const runtime = resolvedRuntime(ctx.desired, spec.runtime);
    const project_id = ctx.projectId();
    const body: Schemas["CreateApplicationRequest"] = {
      name: spec.name,
      subdomain: spec.subdomain,
      description: spec.description,
      script: spec.script,
      cpu: spec.resources.cpu,
      memory: spec.resources.memory,
      nvidia_gpu: spec.resources.gpu,
      bypass_authentication: spec.bypassAuthentication,
      environment: resolveEnv(spec.env, ctx),
      runtime_identifier: runtime.identifier,
      ...(runtime.addons ? { runtime_addon_identifiers: [...runtime.addons] } : {}),
    };
    await runAfterJob(ctx, spec.after);
    const app = await createIdempotently(
      () =>
        unwrap(ctx.api.POST("/api/v2/projects/{project_id}/applications", { params: { path: { project_id } }, body })),
      async () => {
        const found = await findApplicationBySubdomain(ctx.api, project_id, spec.subdomain);
        return found && ownerOf(found.environment) === ctx.stack ? found : undefined;
      },
      ctx.signal,
    );
    const id = requireId(app.id, entry.key);
    // CreateApplication starts the application (openapi/FACTS.md §5): wait for it, bounded. Its answer is the first
    // observation (APPLICATION_STARTING), so the first poll comes after the wait's first interval, not at once.
    return withUrl(ctx, applicationOutputs(await waitRunning(ctx, entry.key, id, app)));
  },
  async update(ctx, entry) {
    const spec = requireSpec(ctx.desired.manifest.applications, entry.key);
    const id = requireId(entry.id, entry.key);
    const project_id = ctx.projectId();
    const changed = new Set(entry.changes.map((c) => c.path.split(".")[0]));
    const runtime = resolvedRuntime(ctx.desired, spec.runtime);
    const body: Schemas["Application"] = {
      ...(changed.has("name") ? { name: spec.name } : {}),
      ...(changed.has("description") ? { description: spec.description } : {}),
      ...(changed.has("script") ? { script: spec.script } : {}),
      ...(changed.has("resources")
        ? { cpu: spec.resources.cpu, memory: spec.resources.memory, nvidia_gpu: spec.resources.gpu }
        : {}),
      ...(changed.has("bypass_authentication") ? { bypass_authentication: spec.bypassAuthentication } : {}),
      ...(changed.has("env") ? { environment: envToWire(resolveEnv(spec.env, ctx)) } : {}),
      ...(changed.has("runtime") || changed.has("addons") ? runtimePair(runtime.identifier, runtime.addons ?? []) : {}),
    };
    const needsRestart = [...changed].some((c) => c !== "name" && c !== "description");
    if (needsRestart) await runAfterJob(ctx, spec.after);
    // Only a restart is needed when nothing but the state differs.
    const patched =
      Object.keys(body).length > 0
        ? await unwrap(
            ctx.api.PATCH("/api/v2/projects/{project_id}/applications/{application.id}", {
              params: { path: { project_id, "application.id": id } },
              body,
            }),
          )
        : { id };
    // Only what the running process sees needs a restart; a rename or description does not.
    if (!needsRestart) return withUrl(ctx, applicationOutputs({ ...patched, id }));
    await unwrap(
      ctx.api.POST("/api/v2/projects/{project_id}/applications/{application_id}:restart", {
        params: { path: { project_id, application_id: id } },
      }),
    );
    return withUrl(ctx, applicationOutputs(await waitRunning(ctx, entry.key, id)));
  },
  async delete(ctx, entry) {
    const id = requireId(entry.id, entry.key);
    await deleteIfPresent(() =>
      unwrap(
        ctx.api.DELETE("/api/v2/projects/{project_id}/applications/{application_id}", {
          params: { path: { project_id: ctx.projectId(), application_id: id } },
        }),
      ),
    );
  },
} satisfies KindAdapter;

/** Waits for APPLICATION_RUNNING; on failure the error carries the last status and the log tail, when readable. */
async function waitRunning(ctx: ApplyContext, key: string, id: string, initial?: Application): Promise<Application> {
  try {
    return await waits.applicationRunning(ctx.api, ctx.projectId(), id, {
      ...ctx.wait(`${key} to be running`),
      ...(initial ? { initial } : {}),
    });
  } catch (error) {
    const tail = await logTail(ctx, `/projects/${ctx.projectId()}/applications/${id}/logs`);
    if (!tail || !(error instanceof Error)) throw error;
    throw new Error(`${error.message}\n  last log lines:\n${tail}`, { cause: error });
  }
}
