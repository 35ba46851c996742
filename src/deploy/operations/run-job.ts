/**
 * Starts a run of one of the manifest's jobs and, when asked, waits for it (bounded), following its log where
 * the platform serves logs. `deploy run` and the library's `runJob` are this function.
 */
import { type Schemas, TERMINAL_RUN_STATUSES, unwrap, waitFor } from "../../client/index.js";
import { UserError } from "../../shared/errors.js";
import type { JobSpec } from "../manifest/model.js";
import type { OpenStack } from "../session.js";
import { openProject } from "../session.js";
import { logFollower } from "./logs.js";

export interface RunJobOptions {
  /** The job's manifest key (or its CML name). */
  job: string;
  /** Wait for the run to finish (default false: return once started). */
  wait?: boolean;
  /** Bound of the wait (default 3600 s). */
  timeoutMs?: number;
  /** Receives the run's log as it grows (implies waiting); where the platform has no log API, one note. */
  onLog?: (text: string) => void;
  /** Called once the run has started. */
  onStarted?: (run: Schemas["JobRun"], job: JobSpec) => void;
}

export interface JobRunResult {
  job: JobSpec;
  /** The run as last seen: just started, or finished when waited for. */
  run: Schemas["JobRun"];
  /** Whether it finished successfully (false when it was not waited for). */
  succeeded: boolean;
}

export async function runJob(stack: OpenStack, options: RunJobOptions): Promise<JobRunResult> {
  const { manifest, target, projectId } = await openProject(stack);
  const { api } = target;
  const spec = manifest.jobs[options.job] ?? Object.values(manifest.jobs).find((j) => j.name === options.job);
  if (!spec)
    throw new UserError(`the manifest has no job ${options.job}`, {
      notes: [`jobs: ${Object.keys(manifest.jobs).join(", ") || "(none)"}`],
    });
  const list = await unwrap(
    api.GET("/api/v2/projects/{project_id}/jobs", {
      params: { path: { project_id: projectId }, query: { search_filter: JSON.stringify({ name: spec.name }) } },
    }),
  );
  const job = (list.jobs ?? []).find((j) => j.name === spec.name);
  if (!job?.id)
    throw new UserError(`job ${spec.name} does not exist yet`, {
      notes: [`create it with \`deploy apply ${stack.options.manifest}\``],
    });
  const job_id = job.id;
  const started = await unwrap(
    api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
      params: { path: { project_id: projectId, job_id } },
      body: {},
    }),
  );
  options.onStarted?.(started, spec);
  if (!options.wait && !options.onLog) return { job: spec, run: started, succeeded: false };
  const run_id = started.id ?? "";
  const follower = options.onLog
    ? logFollower(api, target.platform, `/projects/${projectId}/jobs/${job_id}/runs/${run_id}/logs`, options.onLog)
    : undefined;
  const finished = await waitFor(
    async () => {
      await follower?.poll();
      return unwrap(
        api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs/{run_id}", {
          params: { path: { project_id: projectId, job_id, run_id } },
        }),
      );
    },
    {
      what: `run ${run_id} of jobs.${spec.key} to finish`,
      status: (r) => r.status,
      until: (r) => TERMINAL_RUN_STATUSES.has(r.status ?? ""),
      timeoutMs: options.timeoutMs ?? 3_600_000,
      intervalMs: options.onLog ? 500 : 2000,
    },
  );
  await follower?.poll();
  return { job: spec, run: finished, succeeded: finished.status === "ENGINE_SUCCEEDED" };
}
