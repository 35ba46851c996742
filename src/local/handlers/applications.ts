/** Applications: create (which starts it, as on CML), get, list, patch, delete, :restart, :stop. */
import { existsSync, statSync } from "node:fs";
import { envToWire, type Schemas } from "../../client/index.js";
import { findFreePort } from "../../shared/ports.js";
import { type ApplicationEngine, appLogFile, appUrl } from "../applications.js";
import { getProject, LOCAL_USER, type PlatformContext, projectRoot } from "../context.js";
import { badRequest, conflict, notFound } from "../errors.js";
import { nowIso, shortId } from "../ids.js";
import { applyListQuery } from "../list.js";
import { checkEnvironment, checkName, printable } from "../process-values.js";
import { resolveInProject } from "../project-files.js";
import type { Handlers } from "../server.js";
import type { ApplicationRecord, Wire } from "../state.js";
import { checkRuntime, parseEnvironmentString } from "./common.js";
import { textFile } from "./jobs.js";
import { param } from "./projects.js";

const SUBDOMAIN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export function applicationHandlers(ctx: PlatformContext, engine: ApplicationEngine): Handlers {
  const requireApp = (projectId: string, appId: string): ApplicationRecord => {
    getProject(ctx, projectId);
    const record = ctx.state.applications[appId];
    if (!record || record.projectId !== projectId)
      throw notFound(`application ${appId} not found in project ${projectId}`);
    return record;
  };
  const checkScript = async (projectId: string, script: string | undefined): Promise<string> => {
    if (!script) throw badRequest("script is required");
    const full = await resolveInProject(projectRoot(ctx, projectId), script);
    if (!existsSync(full) || !statSync(full).isFile())
      throw badRequest(`script '${script}' not found in project directory`);
    return script;
  };
  const checkSubdomain = (subdomain: string | undefined, selfId?: string): string => {
    if (!subdomain || !SUBDOMAIN.test(subdomain)) {
      throw badRequest(
        `subdomain must be lowercase letters, digits and inner hyphens, got '${printable(subdomain ?? "")}'`,
      );
    }
    const taken = Object.values(ctx.state.applications).find(
      (r) => r.app.subdomain === subdomain && r.app.id !== selfId,
    );
    if (taken) throw conflict(`subdomain ${subdomain} is already used by application ${taken.app.name}`);
    return subdomain;
  };

  return {
    CreateApplication: async ({ params, body }) => {
      const projectId = param(params, "project_id");
      const project = getProject(ctx, projectId);
      const req: Schemas["CreateApplicationRequest"] = body ?? {};
      const name = req.name?.trim();
      if (!name) throw badRequest("name is required");
      checkName("body.name", name);
      checkEnvironment("body.environment", req.environment);
      const subdomain = checkSubdomain(req.subdomain);
      const script = await checkScript(projectId, req.script);
      const runtime = checkRuntime(project, req.runtime_identifier);
      const id = shortId();
      const now = nowIso();
      const app: Wire<"Application"> = {
        id,
        name,
        subdomain,
        description: req.description ?? "",
        script,
        creator: LOCAL_USER,
        status: "APPLICATION_STARTING",
        created_at: now,
        updated_at: now,
        starting_at: now,
        kernel: req.kernel ?? "",
        cpu: req.cpu ?? 1,
        memory: req.memory ?? 1,
        nvidia_gpu: req.nvidia_gpu ?? 0,
        bypass_authentication: req.bypass_authentication ?? false,
        environment: envToWire(req.environment ?? {}),
        runtime_identifier: runtime,
        runtime_addon_identifiers: req.runtime_addon_identifiers ?? [],
        run_as: req.run_as ?? 0,
        cdv_app: req.cdv_app ?? false,
      };
      const record: ApplicationRecord = {
        projectId,
        app,
        port: await findFreePort(),
        readonlyPort: await findFreePort(),
      };
      ctx.state.applications[id] = record;
      void engine.start(record);
      return app;
    },

    GetApplication: ({ params }) => requireApp(param(params, "project_id"), param(params, "application_id")).app,

    ListApplications: ({ params, query }) => {
      const projectId = param(params, "project_id");
      getProject(ctx, projectId);
      const apps = Object.values(ctx.state.applications)
        .filter((r) => r.projectId === projectId)
        .map((r) => r.app);
      const { items, next_page_token } = applyListQuery(apps, query);
      return { applications: items, next_page_token } satisfies Schemas["ListApplicationsResponse"];
    },

    UpdateApplication: async ({ params, body }) => {
      const projectId = param(params, "project_id");
      const project = getProject(ctx, projectId);
      const record = requireApp(projectId, param(params, "application.id"));
      const app = record.app;
      const patch: Schemas["Application"] = body ?? {};
      // Stored now, used by the next start: a running process keeps what it started with.
      if (patch.name !== undefined) {
        if (!patch.name.trim()) throw badRequest("name must not be empty");
        checkName("body.name", patch.name);
        app.name = patch.name.trim();
      }
      if (patch.subdomain !== undefined) app.subdomain = checkSubdomain(patch.subdomain, app.id);
      if (patch.description !== undefined) app.description = patch.description;
      if (patch.script !== undefined) app.script = await checkScript(projectId, patch.script);
      if (patch.environment) app.environment = envToWire(parseEnvironmentString(patch.environment));
      if (patch.bypass_authentication !== undefined) app.bypass_authentication = patch.bypass_authentication;
      if (patch.kernel !== undefined) app.kernel = patch.kernel;
      if (patch.cpu !== undefined) app.cpu = patch.cpu;
      if (patch.memory !== undefined) app.memory = patch.memory;
      if (patch.nvidia_gpu !== undefined) app.nvidia_gpu = patch.nvidia_gpu;
      if (patch.runtime_identifier !== undefined) {
        app.runtime_identifier = checkRuntime(project, patch.runtime_identifier);
        app.runtime_addon_identifiers = patch.runtime_addon_identifiers ?? [];
      }
      app.updated_at = nowIso();
      return app;
    },

    RestartApplication: ({ params }) => {
      const record = requireApp(param(params, "project_id"), param(params, "application_id"));
      void engine.start(record);
      return record.app;
    },

    StopApplication: async ({ params }) => {
      const record = requireApp(param(params, "project_id"), param(params, "application_id"));
      await engine.stop(record);
      return record.app;
    },

    DeleteApplication: async ({ params }) => {
      const record = requireApp(param(params, "project_id"), param(params, "application_id"));
      await engine.stop(record);
      delete ctx.state.applications[record.app.id ?? ""];
      return {};
    },

    LocalGetApplicationEndpoint: ({ params }) => {
      const record = requireApp(param(params, "project_id"), param(params, "application_id"));
      return {
        url: appUrl(record),
        port: record.port,
        readonly_port: record.readonlyPort,
        subdomain: record.app.subdomain ?? "",
        status: record.app.status ?? "",
      };
    },

    LocalGetApplicationLogs: ({ params }) => {
      const record = requireApp(param(params, "project_id"), param(params, "application_id"));
      return textFile(appLogFile(ctx.dataDir, record.app.id ?? ""));
    },
  };
}
