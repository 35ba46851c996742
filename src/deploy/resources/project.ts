/**
 * The project: the container every other object lives in. Identity: exact name (search_filter is a substring
 * hint; openapi/FACTS.md §4) plus the marker in the project environment. A new project is usable only once
 * `creation_status` is `success`.
 */
import {
  type CmlClient,
  envFromWire,
  envToWire,
  findOneByName,
  isApiError,
  listAll,
  listByFilter,
  type Schemas,
  unwrap,
  waits,
} from "../../client/index.js";
import { createIdempotently, deleteIfPresent } from "../engine/idempotent.js";
import type { LiveState } from "../engine/kind.js";
import { PlanOutOfDate } from "../engine/project-race.js";
import { desiredEnvFields, liveEnvFields, ownerOf, resolveEnv } from "./env.js";
import { requireId } from "./keys.js";
import {
  type ApplyContext,
  type FieldMap,
  type FieldRules,
  type KindAdapter,
  type NormaliseContext,
  type Project,
  slot,
} from "./types.js";

export type LiveProject = Project & { id: string };

/** Every project with the manifest's exact name (more than one is a conflict). */
export function projectsOf(live: LiveState): LiveProject[] {
  return slot<LiveProject[]>(live, "projects", []);
}

export const projectRules: FieldRules = {
  recreateOn: {},
  serverDefaults: {
    description: "",
    // CreateProjectRequest.visibility defaults to private (openapi/FACTS.md §5).
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

export const projectAdapter = {
  kind: "project",
  rules: projectRules,
  owns: (key) => key === "project",
  container: {
    one({ desired, live }, destroy) {
      const projects = projectsOf(live);
      const name = desired.manifest.project.name;
      if (projects.length > 1) {
        const ids = destroy ? "" : ` (ids ${projects.map((p) => p.id).join(", ")})`;
        return { conflict: `${projects.length} projects are named "${name}"${ids}; rename or delete all but one` };
      }
      const project = projects[0];
      if (!project) return {};
      return {
        found: {
          key: "project",
          id: project.id,
          owner: ownerOf(project.environment),
          preventDestroy: desired.manifest.project.preventDestroy,
        },
      };
    },
  },
  async read(ctx): Promise<LiveProject[]> {
    const name = ctx.manifest?.project.name;
    if (name === undefined) return [];
    const search_filter = JSON.stringify({ name });
    const projects = await listAll(
      (page_token) =>
        ctx.api.GET("/api/v2/projects", { params: { query: { search_filter, page_size: 100, page_token } } }),
      (page) => page.projects,
    );
    // search_filter matches substrings (openapi/FACTS.md §4): only the exact name is ours.
    return projects.filter((p): p is LiveProject => p.name === name && typeof p.id === "string");
  },
  *plan(ctx) {
    const projects = projectsOf(ctx.live);
    const project = projects.length === 1 ? projects[0] : undefined;
    yield {
      key: "project",
      dependsOn: [],
      want: projectDesiredFields(ctx),
      ...(project
        ? { have: projectLiveFields(project, ctx), id: project.id, owner: { stack: ownerOf(project.environment) } }
        : {}),
      preventDestroy: ctx.desired.manifest.project.preventDestroy,
    };
  },
  outputs(_key, { live }) {
    const projects = projectsOf(live);
    return projects.length === 1 && projects[0] ? { id: projects[0].id } : undefined;
  },
  async create(ctx) {
    const spec = ctx.desired.manifest.project;
    const body: Schemas["CreateProjectRequest"] = {
      name: spec.name,
      description: spec.description,
      visibility: spec.visibility,
      // `local`: an empty project whose files are uploaded afterwards (openapi/FACTS.md §5).
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
    // [speed, issue 20] The create's answer is the first observation (creation_status `creating`): polling at once
    // would ask again what was just answered, one call and one round trip on every first apply's critical path.
    await waits.projectReady(ctx.api, id, { ...ctx.wait(`project ${spec.name} to be created`), initial: project });
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
} satisfies KindAdapter;

/** The projects named `name` (the listing settleNewProject decides from). */
export function listProjectCopies(api: CmlClient, name: string): Promise<Project[]> {
  return listByFilter(api, "project", { name });
}

/**
 * Two machines applying a new stack at the same moment: neither can lock a project that does not exist yet, so
 * both create one. Each then settles the same way, from what the server lists: the copy carrying this stack's
 * marker that was created first (then the smaller id) stays; any other copy is deleted by the process that made
 * it (still empty: everything else in the plan depends on the project), and that process plans again.
 * Returns whether the project this process created is the one that stays (otherwise it has been deleted).
 */
export async function settleNewProject(
  api: CmlClient,
  stack: string,
  name: string,
  createdId: string,
  /**
   * The projects of that name, listed after the create returned (while the project became ready). It serves when
   * it shows the copy this process created; a copy missing from it was created later than ours, so it could not
   * come first. Otherwise (or when that listing failed) they are listed now.
   */
  listed?: Promise<Project[]>,
): Promise<boolean> {
  const early = await listed?.catch(() => undefined);
  const all = early?.some((p) => p.id === createdId) ? early : await listProjectCopies(api, name);
  const copies = all.filter((p) => p.name === name && p.id && ownerOf(p.environment) === stack);
  const first = copies.sort(
    (a, b) => (a.created_at ?? "").localeCompare(b.created_at ?? "") || (a.id ?? "").localeCompare(b.id ?? ""),
  )[0];
  if (!first?.id || first.id === createdId) return true;
  await deleteIfPresent(() =>
    unwrap(api.DELETE("/api/v2/projects/{project_id}", { params: { path: { project_id: createdId } } })),
  );
  return false;
}
