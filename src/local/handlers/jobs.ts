/** Jobs and their runs, with CML's validation rules (openapi/FACTS.md §5 "Jobs", §6 mutability). */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { envToWire, type Schemas } from "../../client/index.js";
import { getProject, LOCAL_USER, type PlatformContext, projectRoot, shortProject } from "../context.js";
import { badRequest, notFound } from "../errors.js";
import { nowIso, shortId } from "../ids.js";
import { applyListQuery } from "../list.js";
import { checkEnvironment, checkName, checkProcessValue } from "../process-values.js";
import { resolveInProject } from "../project-files.js";
import { isActive, type RunEngine, requireRun, runLogFile } from "../runs.js";
import { DEFAULT_TIMEZONE, scheduleProblem } from "../schedules.js";
import type { Handlers } from "../server.js";
import type { JobRecord, Wire } from "../state.js";
import { checkRuntime, parseEnvironmentString } from "./common.js";
import { param } from "./projects.js";

export function jobHandlers(ctx: PlatformContext, runs: RunEngine): Handlers {
  const requireJob = (projectId: string, jobId: string): JobRecord => {
    getProject(ctx, projectId);
    const record = ctx.state.jobs[jobId];
    if (!record || record.projectId !== projectId) throw notFound(`job ${jobId} not found in project ${projectId}`);
    return record;
  };
  const checkScript = async (projectId: string, script: string | undefined): Promise<string> => {
    if (!script) throw badRequest("script is required");
    const full = await resolveInProject(projectRoot(ctx, projectId), script);
    if (!existsSync(full) || !statSync(full).isFile()) {
      throw badRequest(`script '${script}' not found in project directory`);
    }
    return script;
  };
  const checkParent = (projectId: string, parentId: string, selfId?: string): string => {
    const parent = ctx.state.jobs[parentId];
    if (!parent || parent.projectId !== projectId) throw badRequest(`parent job ${parentId} not found in project`);
    // Walk up: a job may not (indirectly) depend on itself.
    for (let cursor: string | undefined = parentId; cursor; cursor = ctx.state.jobs[cursor]?.job.parent_id) {
      if (cursor === selfId) throw badRequest(`job ${selfId} cannot depend on itself through ${parentId}`);
    }
    return parentId;
  };

  return {
    CreateJob: async ({ params, body }) => {
      const projectId = param(params, "project_id");
      const project = getProject(ctx, projectId);
      const req: Schemas["CreateJobRequest"] = body ?? {};
      const name = req.name?.trim();
      if (!name) throw badRequest("name is required");
      checkName("body.name", name);
      checkEnvironment("body.environment", req.environment);
      checkProcessValue("body.arguments", req.arguments);
      const script = await checkScript(projectId, req.script);
      const parentRef = req.parent_id || req.parent_job_id || "";
      if (parentRef && req.schedule) throw badRequest("a job cannot have both a schedule and a parent job");
      const timezone = req.timezone || (req.schedule ? DEFAULT_TIMEZONE : "");
      if (req.schedule) checkSchedule(req.schedule, timezone);
      const parentId = parentRef ? checkParent(projectId, parentRef) : "";
      const runtime = checkRuntime(project, req.runtime_identifier);
      const id = shortId();
      const now = nowIso();
      const job: Wire<"Job"> = {
        id,
        name,
        script,
        cpu: req.cpu ?? 1,
        memory: req.memory ?? 1,
        nvidia_gpu: req.nvidia_gpu ?? 0,
        arguments: req.arguments ?? "",
        type: parentId ? "dependent" : req.schedule ? "cron" : "manual",
        kernel: req.kernel ?? "",
        parent_id: parentId,
        paused: req.paused ?? false,
        schedule: req.schedule ?? "",
        english_schedule: "",
        timeout: String(req.timeout ?? 0),
        kill_on_timeout: req.kill_on_timeout ?? true,
        timezone,
        environment: envToWire(req.environment ?? {}),
        runtime_identifier: runtime,
        runtime_addon_identifiers: req.runtime_addon_identifiers ?? [],
        project: shortProject(project),
        creator: LOCAL_USER,
        owner: LOCAL_USER,
        engine_image_id: "",
        attachments: req.attachments ?? [],
        recipients: req.recipients ?? [],
        created_at: now,
        updated_at: now,
      };
      ctx.state.jobs[id] = { projectId, job };
      return job;
    },

    GetJob: ({ params }) => requireJob(param(params, "project_id"), param(params, "job_id")).job,

    ListJobs: ({ params, query }) => {
      const projectId = param(params, "project_id");
      getProject(ctx, projectId);
      const jobs = Object.values(ctx.state.jobs)
        .filter((r) => r.projectId === projectId)
        .map((r) => r.job);
      const { items, next_page_token } = applyListQuery(jobs, query);
      return { jobs: items, next_page_token } satisfies Schemas["ListJobsResponse"];
    },

    UpdateJob: async ({ params, body }) => {
      const projectId = param(params, "project_id");
      const project = getProject(ctx, projectId);
      const record = requireJob(projectId, param(params, "job.id"));
      const job = record.job;
      const patch: Schemas["Job"] = body ?? {};
      // paused, timezone and recipients are accepted and ignored, as CML does (openapi/FACTS.md §6).
      if (patch.name !== undefined) {
        if (!patch.name.trim()) throw badRequest("name must not be empty");
        checkName("body.name", patch.name);
        job.name = patch.name.trim();
      }
      if (patch.script !== undefined) job.script = await checkScript(projectId, patch.script);
      checkProcessValue("body.arguments", patch.arguments);
      if (patch.arguments !== undefined) job.arguments = patch.arguments;
      if (patch.parent_id !== undefined && patch.parent_id !== job.parent_id) {
        job.parent_id = patch.parent_id ? checkParent(projectId, patch.parent_id, job.id) : "";
      }
      if (patch.schedule !== undefined) {
        if (patch.schedule && job.parent_id) throw badRequest("a job cannot have both a schedule and a parent job");
        // A job that gets its first schedule by PATCH has CML's default timezone (PATCH's timezone is ignored).
        if (patch.schedule && !job.timezone) job.timezone = DEFAULT_TIMEZONE;
        if (patch.schedule) checkSchedule(patch.schedule, job.timezone ?? "");
        job.schedule = patch.schedule;
      }
      job.type = job.parent_id ? "dependent" : job.schedule ? "cron" : "manual";
      if (patch.cpu !== undefined) job.cpu = patch.cpu;
      if (patch.memory !== undefined) job.memory = patch.memory;
      if (patch.nvidia_gpu !== undefined) job.nvidia_gpu = patch.nvidia_gpu;
      if (patch.timeout !== undefined) {
        const seconds = Number(patch.timeout);
        if (!Number.isInteger(seconds) || seconds < 0) throw badRequest("timeout must be a whole number of seconds");
        job.timeout = String(seconds);
      }
      if (patch.kill_on_timeout !== undefined) job.kill_on_timeout = patch.kill_on_timeout;
      if (patch.environment) job.environment = envToWire(parseEnvironmentString(patch.environment));
      if (patch.runtime_identifier !== undefined) {
        job.runtime_identifier = checkRuntime(project, patch.runtime_identifier);
        job.runtime_addon_identifiers = patch.runtime_addon_identifiers ?? [];
      } else if (patch.runtime_addon_identifiers !== undefined) {
        throw badRequest("runtime_addon_identifiers must be sent together with runtime_identifier");
      }
      job.updated_at = nowIso();
      return job;
    },

    DeleteJob: async ({ params }) => {
      const record = requireJob(param(params, "project_id"), param(params, "job_id"));
      const jobId = record.job.id ?? "";
      await runs.stopAll((run) => run.job_id === jobId);
      delete ctx.state.jobs[jobId];
      // Dependents stay, as on CML; their history and ours stays readable through the run ids.
      return {};
    },

    CreateJobRun: ({ params, body }) => {
      const record = requireJob(param(params, "project_id"), param(params, "job_id"));
      const req: Schemas["CreateJobRunRequest"] = body ?? {};
      checkEnvironment("body.environment", req.environment);
      checkProcessValue("body.arguments", req.arguments);
      return runs.create(record, req);
    },

    ListJobRuns: ({ params, query }) => {
      const record = requireJob(param(params, "project_id"), param(params, "job_id"));
      const list = Object.values(ctx.state.runs).filter((r) => r.job_id === record.job.id);
      const sorted = query.get("sort")
        ? list
        : list.sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? ""));
      const { items, next_page_token } = applyListQuery(sorted, query);
      return { job_runs: items, next_page_token } satisfies Schemas["ListJobRunsResponse"];
    },

    GetJobRun: ({ params }) => {
      const jobId = requireJob(param(params, "project_id"), param(params, "job_id")).job.id ?? "";
      return requireRun(ctx, jobId, param(params, "run_id"));
    },

    StopJobRun: async ({ params }) => {
      const jobId = requireJob(param(params, "project_id"), param(params, "job_id")).job.id ?? "";
      const run = requireRun(ctx, jobId, param(params, "run_id"));
      if (isActive(run)) await runs.stop(run.id ?? "");
      return run;
    },

    LocalGetJobRunLogs: async ({ params }) => {
      const jobId = requireJob(param(params, "project_id"), param(params, "job_id")).job.id ?? "";
      const run = requireRun(ctx, jobId, param(params, "run_id"));
      return textFile(runLogFile(ctx.dataDir, run.id ?? ""));
    },
  };
}

function checkSchedule(schedule: string, timezone: string): void {
  const problem = scheduleProblem(schedule, timezone);
  if (problem) throw badRequest(problem);
}

export async function textFile(path: string): Promise<Response> {
  let text = "";
  try {
    text = await readFile(path, "utf8");
  } catch {
    text = "";
  }
  return new Response(text, { headers: { "Content-Type": "text/plain; charset=utf-8" } });
}
