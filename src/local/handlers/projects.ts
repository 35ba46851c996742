/** Projects: create (blank), get, list, patch, delete. A project is a directory plus its wire object. */
import { mkdir, rm } from "node:fs/promises";
import { envToWire, type Schemas } from "../../client/index.js";
import { getProject, LOCAL_USER, type PlatformContext, projectRoot } from "../context.js";
import { badRequest, conflict } from "../errors.js";
import { nowIso, shortId } from "../ids.js";
import { applyListQuery } from "../list.js";
import { checkEnvironment, checkName } from "../process-values.js";
import type { Handlers } from "../server.js";
import type { Wire } from "../state.js";
import { parseEnvironmentString } from "./common.js";

/** Templates that need no network: a blank project is a directory; files are uploaded later. */
const LOCAL_TEMPLATES = new Set(["", "blank", "local", "Python", "R", "PySpark", "Scala"]);
/** How long a new project stays in `creating`, so clients exercise their readiness wait. */
const CREATION_MS = 150;

export interface ProjectHooks {
  /** Ends every workload of the project and forgets its objects. */
  deleteProjectObjects(projectId: string): Promise<void>;
}

export function projectHandlers(ctx: PlatformContext, hooks: ProjectHooks): Handlers {
  return {
    CreateProject: async ({ body }) => {
      const req: Schemas["CreateProjectRequest"] = body ?? {};
      const name = req.name?.trim();
      if (!name) throw badRequest("name is required");
      checkName("body.name", name);
      checkEnvironment("body.environment", req.environment);
      const template = req.template ?? "";
      if (!LOCAL_TEMPLATES.has(template)) {
        throw badRequest(`template ${template} is not supported by the local platform (use blank or local)`);
      }
      if (!ctx.duplicateProjectNames && Object.values(ctx.state.projects).some((p) => p.name === name)) {
        throw conflict(`a project named ${name} already exists`);
      }
      const id = shortId();
      const now = nowIso();
      const project: Wire<"Project"> = {
        id,
        name,
        slug: slugify(name),
        owner: LOCAL_USER,
        creator: LOCAL_USER,
        description: req.description ?? "",
        visibility: req.visibility || "private",
        default_engine_type: req.default_project_engine_type || "ml_runtime",
        created_at: now,
        updated_at: now,
        creation_status: "creating",
        permissions: { read: true, write: true, admin: true, business_user: false, operator: true, inherit: false },
        shared_memory_limit: req.shared_memory_limit ?? 0,
        environment: envToWire(req.environment ?? {}),
      };
      // Claimed before the first await, so two concurrent creates of one name cannot both pass the check above.
      ctx.state.projects[id] = project;
      try {
        await mkdir(projectRoot(ctx, id), { recursive: true });
      } catch (error) {
        delete ctx.state.projects[id];
        throw error;
      }
      const timer = setTimeout(() => {
        const current = ctx.state.projects[id];
        if (current?.creation_status === "creating") {
          current.creation_status = "success";
          void ctx.save();
        }
      }, CREATION_MS);
      timer.unref();
      return project;
    },

    GetProject: ({ params }) => getProject(ctx, param(params, "project_id")),

    ListProjects: ({ query }) => {
      const { items, next_page_token } = applyListQuery(Object.values(ctx.state.projects), query);
      return { projects: items, next_page_token } satisfies Schemas["ListProjectsResponse"];
    },

    UpdateProject: ({ params, body }) => {
      const project = getProject(ctx, param(params, "project.id"));
      const patch: Schemas["Project"] = body ?? {};
      if (patch.name !== undefined) {
        const name = patch.name.trim();
        if (!name) throw badRequest("name must not be empty");
        checkName("body.name", name);
        if (Object.values(ctx.state.projects).some((p) => p.name === name && p.id !== project.id)) {
          throw conflict(`a project named ${name} already exists`);
        }
        project.name = name;
      }
      if (patch.description !== undefined) project.description = patch.description;
      if (patch.visibility) project.visibility = patch.visibility;
      if (patch.default_engine_type) project.default_engine_type = patch.default_engine_type;
      if (patch.shared_memory_limit !== undefined) project.shared_memory_limit = patch.shared_memory_limit;
      if (patch.environment) project.environment = envToWire(parseEnvironmentString(patch.environment));
      project.updated_at = nowIso();
      return project;
    },

    DeleteProject: async ({ params }) => {
      const project = getProject(ctx, param(params, "project_id"));
      const id = project.id ?? "";
      await hooks.deleteProjectObjects(id);
      delete ctx.state.projects[id];
      await rm(projectRoot(ctx, id), { recursive: true, force: true });
      return {};
    },
  };
}

export function param(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || value === "") throw badRequest(`${name} is required`);
  return value;
}

function slugify(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") || "project"
  );
}
