/**
 * The project. Identity: exact name (search_filter is a substring hint; FACTS.md §4) plus the marker in the
 * project environment. A new project is usable only once `creation_status` is `success`.
 */
import { envFromWire, envToWire, findOneByName, isApiError, type Schemas, unwrap, waits } from "../../client/index.js";
import { PlanOutOfDate } from "../engine/project-race.js";
import { createIdempotently, deleteIfPresent } from "./create.js";
import { desiredEnvFields, liveEnvFields, ownerOf, resolveEnv } from "./env.js";
import { requireId } from "./keys.js";
import type { ApplyContext, FieldMap, FieldRules, NormaliseContext, Project, ResourceAdapter } from "./types.js";

export const projectRules: FieldRules = {
  recreateOn: {},
  serverDefaults: {
    description: "",
    // CreateProjectRequest.visibility defaults to private (FACTS.md §5).
    visibility: "private",
  },
};

export function projectDesiredFields(ctx: NormaliseContext): FieldMap {
  const spec = ctx.desired.manifest.project;
  return {
    description: spec.description,
    visibility: spec.visibility,
    ...desiredEnvFields(spec.env, ctx),
  };
}

export function projectLiveFields(project: Project, ctx: NormaliseContext): FieldMap {
  const spec = ctx.desired.manifest.project;
  return {
    description: project.description,
    visibility: project.visibility,
    // CML injects keys of its own into project environments: compare only the keys we manage.
    ...liveEnvFields(project.environment, spec.env, ctx, { onlyKeys: new Set(Object.keys(spec.env)) }),
  };
}

/**
 * A workspace that refuses a second project of the same name answers 409 when another apply (another machine,
 * before either could lock anything) created ours first: if it carries this stack's marker, the plan is out of
 * date, not wrong. Anything else stays the error it was.
 */
async function outrunBy(ctx: ApplyContext, name: string, error: unknown): Promise<never> {
  if (isApiError(error) && error.status === 409) {
    const found = await findOneByName(ctx.api, "project", { name });
    if (found && ownerOf(found.environment) === ctx.stack)
      throw new PlanOutOfDate(`another apply created project "${name}" at the same moment`);
  }
  throw error;
}

export const projectAdapter: ResourceAdapter = {
  kind: "project",
  rules: projectRules,
  async create(ctx) {
    const spec = ctx.desired.manifest.project;
    const body: Schemas["CreateProjectRequest"] = {
      name: spec.name,
      description: spec.description,
      visibility: spec.visibility,
      // `local`: an empty project whose files are uploaded afterwards (FACTS.md §5).
      template: "local",
      environment: resolveEnv(spec.env, ctx),
    };
    const project = await createIdempotently(
      () => unwrap(ctx.api.POST("/api/v2/projects", { body })).catch((error) => outrunBy(ctx, spec.name, error)),
      async () => {
        const found = await findOneByName(ctx.api, "project", { name: spec.name });
        return found && ownerOf(found.environment) === ctx.stack ? found : undefined;
      },
      ctx.signal,
    );
    const id = requireId(project.id, "project");
    ctx.setProjectId(id);
    await waits.projectReady(ctx.api, id, ctx.wait(`project ${spec.name} to be created`));
    return { id, name: spec.name };
  },
  async update(ctx, entry) {
    const spec = ctx.desired.manifest.project;
    const id = requireId(entry.id, "project");
    ctx.setProjectId(id);
    const changed = new Set(entry.changes.map((c) => c.path.split(".")[0]));
    let environment: string | undefined;
    if (changed.has("env")) {
      // PATCH replaces the whole map: keep the keys CML (or a person) put there, overwrite ours.
      const live = await unwrap(ctx.api.GET("/api/v2/projects/{project_id}", { params: { path: { project_id: id } } }));
      environment = envToWire({ ...envFromWire(live.environment), ...resolveEnv(spec.env, ctx) });
    }
    await unwrap(
      ctx.api.PATCH("/api/v2/projects/{project.id}", {
        params: { path: { "project.id": id } },
        body: {
          ...(changed.has("description") ? { description: spec.description } : {}),
          ...(changed.has("visibility") ? { visibility: spec.visibility } : {}),
          ...(environment !== undefined ? { environment } : {}),
        },
      }),
    );
    return { id, name: spec.name };
  },
  async delete(ctx, entry) {
    const id = requireId(entry.id, "project");
    await deleteIfPresent(() =>
      unwrap(ctx.api.DELETE("/api/v2/projects/{project_id}", { params: { path: { project_id: id } } })),
    );
  },
};
