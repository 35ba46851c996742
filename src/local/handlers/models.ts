/** Models, builds and deployments (openapi/FACTS.md §5 "Models, builds, deployments"). */
import { envToWire, type Schemas } from "../../client/index.js";
import { getProject, LOCAL_USER, type PlatformContext, shortProject } from "../context.js";
import { badRequest, HttpError, notFound } from "../errors.js";
import { accessKey, nowIso, uuid } from "../ids.js";
import { applyListQuery } from "../list.js";
import { buildLogFile, deploymentLogFile, type ModelEngine } from "../models.js";
import { checkEnvironment, checkName } from "../process-values.js";
import type { Handlers } from "../server.js";
import type { BuildRecord, ModelRecord, Wire } from "../state.js";
import { checkRuntime } from "./common.js";
import { textFile } from "./jobs.js";
import { param } from "./projects.js";

const crn = (kind: string, id: string) => `crn:cdp:ml:local:local-account:workspace:local/${kind}/${id}`;

export function modelHandlers(ctx: PlatformContext, engine: ModelEngine): Handlers {
  const requireModel = (projectId: string, modelId: string): ModelRecord => {
    getProject(ctx, projectId);
    const record = ctx.state.models[modelId];
    if (!record || record.projectId !== projectId) throw notFound(`model ${modelId} not found in project ${projectId}`);
    return record;
  };
  const requireBuild = (projectId: string, modelId: string, buildId: string): BuildRecord => {
    requireModel(projectId, modelId);
    const record = ctx.state.builds[buildId];
    if (!record || record.build.model_id !== modelId) throw notFound(`build ${buildId} of model ${modelId} not found`);
    return record;
  };
  const requireDeployment = (params: Record<string, string>): Wire<"ModelDeployment"> => {
    const build = requireBuild(param(params, "project_id"), param(params, "model_id"), param(params, "build_id"));
    const deployment = ctx.state.deployments[param(params, "deployment_id")];
    if (!deployment || deployment.build_id !== build.build.id) {
      throw notFound(`deployment ${params.deployment_id} of build ${build.build.id} not found`);
    }
    return deployment;
  };

  const createBuild = (
    model: ModelRecord,
    req: Schemas["ShortCreateModelBuild"] & { registered_model_version_id?: string },
    deployAfter?: Schemas["ShortCreateModelDeployment"],
  ): Wire<"ModelBuild"> => {
    const project = getProject(ctx, model.projectId);
    if (!req.file_path) throw badRequest("file_path is required");
    if (!req.function_name) throw badRequest("function_name is required");
    const runtime = checkRuntime(project, req.runtime_identifier);
    const id = uuid();
    const now = nowIso();
    const build: Wire<"ModelBuild"> = {
      id,
      model_id: model.model.id ?? "",
      creator: LOCAL_USER,
      comment: req.comment ?? "",
      file_path: req.file_path,
      function_name: req.function_name,
      engine_image: "",
      kernel: req.kernel ?? "",
      created_at: now,
      updated_at: now,
      status: "pending",
      deletion_status: "",
      crn: crn("build", id),
      runtime_identifier: runtime,
      runtime_addon_identifiers: req.runtime_addon_identifiers ?? [],
      registered_model_version_id: req.registered_model_version_id ?? "",
      model_root_dir: req.model_root_dir ?? "",
      build_script_path: req.build_script_path ?? "",
    };
    const record: BuildRecord = { projectId: model.projectId, build };
    ctx.state.builds[id] = record;
    void engine.build(record).then((ok) => {
      if (ok && deployAfter && !ctx.closing) createDeployment(record, deployAfter);
    });
    return build;
  };

  const createDeployment = (
    record: BuildRecord,
    req: Schemas["ShortCreateModelDeployment"],
  ): Wire<"ModelDeployment"> => {
    if (record.build.status !== "built") {
      throw new HttpError(400, `build ${record.build.id} is ${record.build.status}, not built`);
    }
    const modelId = record.build.model_id ?? "";
    // One model serves from one deployment at a time: a new deployment replaces the running one.
    for (const other of Object.values(ctx.state.deployments)) {
      if (other.model_id === modelId && (other.status === "deployed" || other.status === "pending"))
        void engine.stop(other);
    }
    const id = uuid();
    const now = nowIso();
    const deployment: Wire<"ModelDeployment"> = {
      project_id: record.projectId,
      model_id: modelId,
      build_id: record.build.id ?? "",
      id,
      cpu: req.cpu ?? 1,
      memory: req.memory ?? 2,
      nvidia_gpu: req.nvidia_gpus ?? 0,
      environment: envToWire(req.environment ?? {}),
      created_at: now,
      updated_at: now,
      crn: crn("deployment", id),
      deployer: LOCAL_USER,
      status: "pending",
      replicas: req.replicas ?? 1,
    };
    ctx.state.deployments[id] = deployment;
    void engine.deploy(deployment);
    return deployment;
  };

  const deleteModelObjects = async (modelId: string) => {
    for (const deployment of Object.values(ctx.state.deployments)) {
      if (deployment.model_id !== modelId) continue;
      await engine.stop(deployment);
      delete ctx.state.deployments[deployment.id ?? ""];
    }
    for (const [id, record] of Object.entries(ctx.state.builds))
      if (record.build.model_id === modelId) delete ctx.state.builds[id];
    delete ctx.state.models[modelId];
  };

  const listModels = (records: ModelRecord[], query: URLSearchParams) => {
    const { items, next_page_token } = applyListQuery(
      records.map((r) => r.model),
      query,
    );
    return { models: items, next_page_token } satisfies Schemas["ListModelsResponse"];
  };

  return {
    CreateModel: ({ params, body }) => {
      const projectId = param(params, "project_id");
      const project = getProject(ctx, projectId);
      const req: Schemas["CreateModelRequest"] = body ?? {};
      const name = req.name?.trim();
      if (!name) throw badRequest("name is required");
      checkName("body.name", name);
      checkEnvironment("body.auto_deployment_config.environment", req.auto_deployment_config?.environment);
      if (req.auto_build_model && !req.auto_build_config) throw badRequest("auto_build_model needs auto_build_config");
      const id = uuid();
      const now = nowIso();
      const model: Wire<"Model"> = {
        id,
        name,
        description: req.description ?? "",
        creator: LOCAL_USER,
        access_key: accessKey(),
        deletion_status: "",
        created_at: now,
        updated_at: now,
        crn: crn("model", id),
        auth_enabled: !(req.disable_authentication ?? false),
        project: shortProject(project),
        registered_model_id: req.registered_model_id ?? "",
        visibility: req.visibility || "private",
        default_resources: { cpu_millicores: "1000", memory_mb: "2048", nvidia_gpus: "0" },
        default_replication_policy: { type: "fixed", num_replicas: "1" },
        run_as: req.run_as ?? 0,
      };
      const record: ModelRecord = { projectId, model };
      ctx.state.models[id] = record;
      if (req.auto_build_model && req.auto_build_config) {
        createBuild(
          record,
          req.auto_build_config,
          req.auto_deploy_model ? (req.auto_deployment_config ?? {}) : undefined,
        );
      }
      return model;
    },

    GetModel: ({ params }) => requireModel(param(params, "project_id"), param(params, "model_id")).model,

    ListModels: ({ params, query }) => {
      const projectId = param(params, "project_id");
      getProject(ctx, projectId);
      return listModels(
        Object.values(ctx.state.models).filter((r) => r.projectId === projectId),
        query,
      );
    },

    ListAllModels: ({ query }) => listModels(Object.values(ctx.state.models), query),

    UpdateModel: ({ params, body }) => {
      const record = requireModel(param(params, "project_id"), param(params, "model.id"));
      const patch: Schemas["UpdateSingleModel"] = body ?? {};
      const model = record.model;
      if (patch.name !== undefined) {
        if (!patch.name.trim()) throw badRequest("name must not be empty");
        checkName("body.name", patch.name);
        model.name = patch.name.trim();
      }
      if (patch.description !== undefined) model.description = patch.description;
      if (patch.visibility) model.visibility = patch.visibility;
      if (patch.default_resources) model.default_resources = patch.default_resources;
      if (patch.default_replication_policy) model.default_replication_policy = patch.default_replication_policy;
      model.updated_at = nowIso();
      return model;
    },

    DeleteModel: async ({ params }) => {
      const record = requireModel(param(params, "project_id"), param(params, "model_id"));
      await deleteModelObjects(record.model.id ?? "");
      return {};
    },

    CreateModelBuild: ({ params, body }) => {
      const model = requireModel(param(params, "project_id"), param(params, "model_id"));
      const req: Schemas["CreateModelBuildRequest"] = body ?? {};
      checkEnvironment("body.auto_deployment_config.environment", req.auto_deployment_config?.environment);
      return createBuild(model, req, req.auto_deploy_model ? (req.auto_deployment_config ?? {}) : undefined);
    },

    GetModelBuild: ({ params }) =>
      requireBuild(param(params, "project_id"), param(params, "model_id"), param(params, "build_id")).build,

    ListModelBuilds: ({ params, query }) => {
      const model = requireModel(param(params, "project_id"), param(params, "model_id"));
      const builds = Object.values(ctx.state.builds)
        .filter((r) => r.build.model_id === model.model.id)
        .map((r) => r.build);
      const { items, next_page_token } = applyListQuery(builds, query);
      return { model_builds: items, next_page_token } satisfies Schemas["ListModelBuildsResponse"];
    },

    DeleteModelBuild: async ({ params }) => {
      const record = requireBuild(param(params, "project_id"), param(params, "model_id"), param(params, "build_id"));
      for (const deployment of Object.values(ctx.state.deployments)) {
        if (deployment.build_id !== record.build.id) continue;
        await engine.stop(deployment);
        delete ctx.state.deployments[deployment.id ?? ""];
      }
      delete ctx.state.builds[record.build.id ?? ""];
      return {};
    },

    CreateModelDeployment: ({ params, body }) => {
      const record = requireBuild(param(params, "project_id"), param(params, "model_id"), param(params, "build_id"));
      const req: Schemas["CreateModelDeploymentRequest"] = body ?? {};
      checkEnvironment("body.environment", req.environment);
      return createDeployment(record, req);
    },

    GetModelDeployment: ({ params }) => requireDeployment(params),

    ListModelDeployments: ({ params, query }) => {
      const record = requireBuild(param(params, "project_id"), param(params, "model_id"), param(params, "build_id"));
      const list = Object.values(ctx.state.deployments).filter((d) => d.build_id === record.build.id);
      const { items, next_page_token } = applyListQuery(list, query);
      return { model_deployments: items, next_page_token } satisfies Schemas["ListModelDeploymentsResponse"];
    },

    RestartModelDeployment: ({ params }) => {
      const deployment = requireDeployment(params);
      deployment.status = "pending";
      void engine.deploy(deployment);
      return deployment;
    },

    StopModelDeployment: async ({ params }) => {
      const deployment = requireDeployment(params);
      await engine.stop(deployment);
      return deployment;
    },

    LocalGetModelBuildLogs: ({ params }) => {
      const record = requireBuild(param(params, "project_id"), param(params, "model_id"), param(params, "build_id"));
      return textFile(buildLogFile(ctx.dataDir, record.build.id ?? ""));
    },

    LocalGetModelDeploymentLogs: ({ params }) =>
      textFile(deploymentLogFile(ctx.dataDir, requireDeployment(params).id ?? "")),
  };
}
