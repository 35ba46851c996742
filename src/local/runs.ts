/**
 * Job runs as processes: ENGINE_SCHEDULING → ENGINE_STARTING → ENGINE_RUNNING → ENGINE_SUCCEEDED | ENGINE_FAILED |
 * ENGINE_STOPPED | ENGINE_TIMEDOUT. A succeeded run starts the runs of jobs that depend on its job.
 */
import { join } from "node:path";
import { envFromWire, type Schemas } from "../client/index.js";
import { getProject, LOCAL_USER, type PlatformContext, projectRoot } from "./context.js";
import { HttpError } from "./errors.js";
import { nowIso, shortId } from "./ids.js";
import { appendLine, interpreterFor, type Workload } from "./processes.js";
import { resolveInProject } from "./project-files.js";
import type { JobRecord, Wire } from "./state.js";
import { workloadEnv } from "./workload-env.js";

const ACTIVE = new Set(["ENGINE_SCHEDULING", "ENGINE_STARTING", "ENGINE_RUNNING", "ENGINE_STOPPING"]);

export function isActive(run: Wire<"JobRun">): boolean {
  return ACTIVE.has(run.status ?? "");
}

export function runLogFile(dataDir: string, runId: string): string {
  return join(dataDir, "logs", "runs", `${runId}.log`);
}

interface LiveRun {
  workload: Workload | undefined;
  stopRequested: boolean;
  timedOut: boolean;
}

export class RunEngine {
  private readonly live = new Map<string, LiveRun>();
  private readonly settled = new Map<string, Promise<void>>();

  constructor(private readonly ctx: PlatformContext) {}

  create(record: JobRecord, overrides: Schemas["CreateJobRunRequest"] = {}): Wire<"JobRun"> {
    const job = record.job;
    const jobId = job.id ?? "";
    const active = Object.values(this.ctx.state.runs).find((r) => r.job_id === jobId && isActive(r));
    if (active) throw new HttpError(400, `job ${job.name} already has an active run (${active.id})`);
    const now = nowIso();
    const id = shortId();
    const env = { ...envFromWire(job.environment), ...(overrides.environment ?? {}) };
    const run: Wire<"JobRun"> = {
      id,
      project_id: record.projectId,
      job_id: jobId,
      status: "ENGINE_SCHEDULING",
      created_at: now,
      scheduling_at: now,
      kernel: job.kernel ?? "",
      cpu: job.cpu ?? 1,
      memory: job.memory ?? 1,
      nvidia_gpu: job.nvidia_gpu ?? 0,
      arguments: overrides.arguments ?? job.arguments ?? "",
      environment: JSON.stringify(env),
      creator: LOCAL_USER,
      runtime_identifier: job.runtime_identifier ?? "",
    };
    this.ctx.state.runs[id] = run;
    const live: LiveRun = { workload: undefined, stopRequested: false, timedOut: false };
    this.live.set(id, live);
    const done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.execute(record, run, live))
      .catch((error: unknown) => {
        appendLine(
          runLogFile(this.ctx.dataDir, id),
          `cml-local: ${error instanceof Error ? error.message : String(error)}`,
        );
        this.finish(run, "ENGINE_FAILED");
      })
      .finally(() => {
        this.live.delete(id);
        this.settled.delete(id);
      });
    this.settled.set(id, done);
    return run;
  }

  async stop(runId: string): Promise<void> {
    const live = this.live.get(runId);
    if (!live) return;
    live.stopRequested = true;
    const run = this.ctx.state.runs[runId];
    if (run && isActive(run)) run.status = "ENGINE_STOPPING";
    await live.workload?.stop();
    await this.settled.get(runId);
  }

  async stopAll(predicate: (run: Wire<"JobRun">) => boolean = () => true): Promise<void> {
    const ids = [...this.live.keys()].filter((id) => {
      const run = this.ctx.state.runs[id];
      return run ? predicate(run) : false;
    });
    await Promise.all(ids.map((id) => this.stop(id)));
  }

  private async execute(record: JobRecord, run: Wire<"JobRun">, live: LiveRun): Promise<void> {
    const ctx = this.ctx;
    const id = run.id ?? "";
    const logFile = runLogFile(ctx.dataDir, id);
    if (live.stopRequested) return this.finish(run, "ENGINE_STOPPED");
    run.status = "ENGINE_STARTING";
    run.starting_at = nowIso();
    await ctx.save();
    const project = getProject(ctx, record.projectId);
    const root = projectRoot(ctx, record.projectId);
    const script = record.job.script ?? "";
    let scriptPath: string;
    try {
      scriptPath = await resolveInProject(root, script);
    } catch {
      appendLine(logFile, `cml-local: script ${script} is not a valid project path`);
      return this.finish(run, "ENGINE_FAILED");
    }
    const how = interpreterFor(scriptPath);
    if ("error" in how) {
      appendLine(logFile, `cml-local: ${how.error}`);
      return this.finish(run, "ENGINE_FAILED");
    }
    const env = await workloadEnvFor(ctx, project, run, record);
    const workload = ctx.supervisor.spawn({ command: how.command, args: how.args, cwd: root, env, logFile });
    live.workload = workload;
    if (workload.pid !== undefined) ctx.state.pids[id] = workload.pid;
    if (live.stopRequested) void workload.stop();
    run.status = live.stopRequested ? "ENGINE_STOPPING" : "ENGINE_RUNNING";
    run.running_at = nowIso();
    void ctx.save();
    const timeoutSeconds = Number(record.job.timeout ?? "0");
    const timer =
      timeoutSeconds > 0
        ? setTimeout(() => {
            live.timedOut = true;
            appendLine(logFile, `cml-local: run exceeded the job's timeout of ${timeoutSeconds}s; stopping it`);
            void workload.stop();
          }, timeoutSeconds * 1000)
        : undefined;
    const exit = await workload.exited;
    if (timer) clearTimeout(timer);
    delete ctx.state.pids[id];
    if (exit.spawnError) return this.finish(run, "ENGINE_FAILED");
    if (live.stopRequested) return this.finish(run, "ENGINE_STOPPED");
    if (live.timedOut) return this.finish(run, "ENGINE_TIMEDOUT");
    if (exit.code === 0) {
      this.finish(run, "ENGINE_SUCCEEDED");
      this.startDependents(record);
      return;
    }
    appendLine(logFile, `cml-local: exited with ${exit.code ?? exit.signal}`);
    this.finish(run, "ENGINE_FAILED");
  }

  private finish(run: Wire<"JobRun">, status: Schemas["EngineStatus"]): void {
    run.status = status;
    run.finished_at = nowIso();
    void this.ctx.save();
  }

  private startDependents(parent: JobRecord): void {
    if (this.ctx.closing) return;
    for (const record of Object.values(this.ctx.state.jobs)) {
      if (record.job.parent_id !== parent.job.id || record.projectId !== parent.projectId) continue;
      try {
        this.create(record);
      } catch (error) {
        // A dependent that is already running is left alone, as CML does not queue a second run.
        if (!(error instanceof HttpError)) throw error;
        this.ctx.log(`dependent job ${record.job.name} not started: ${error.message}`);
      }
    }
  }
}

function workloadEnvFor(
  ctx: PlatformContext,
  project: Schemas["Project"],
  run: Wire<"JobRun">,
  record: JobRecord,
): Promise<NodeJS.ProcessEnv> {
  return workloadEnv(ctx, {
    project,
    runtimeIdentifier: record.job.runtime_identifier,
    own: [envFromWire(run.environment)],
    engine: { JOB_ARGUMENTS: run.arguments ?? "", CDSW_ENGINE_ID: run.id ?? "", CDSW_JOB_ID: record.job.id ?? "" },
  });
}

export function requireRun(ctx: PlatformContext, jobId: string, runId: string): Wire<"JobRun"> {
  const run = ctx.state.runs[runId];
  if (!run || run.job_id !== jobId) throw new HttpError(404, `run ${runId} of job ${jobId} not found`);
  return run;
}
