/**
 * `after:` on an application or model: a job that must have succeeded before the application starts or the model
 * is built, typically the install job that puts Node.js into the project on a stock runtime (docs/workspace.md §2b).
 * CML links only jobs to jobs (`parent_id`, openapi/FACTS.md §5), and CreateApplication starts the application at
 * once, so apply makes the link: before creating or changing such an application (before building such a model) it
 * runs the job, once per apply, and waits for it to succeed. It is not run again when its newest run succeeded and
 * neither the job nor any synced file changes in this apply; a run already in progress is waited for, not doubled.
 */
import { type Schemas, TERMINAL_RUN_STATUSES, unwrap, waits } from "../../client/index.js";
import { createIdempotently } from "../engine/idempotent.js";
import type { ResourceKey } from "../manifest/model.js";
import { logTail } from "./log-tail.js";
import type { ApplyContext, NormaliseContext } from "./types.js";

/** What a resource that runs after a job waits for: the job, and every synced file (the job reads the project). */
export function afterJobDeps(after: string | undefined, ctx: Pick<NormaliseContext, "desired">): ResourceKey[] {
  return after ? [`jobs.${after}`, ...syncedFileKeys(ctx)] : [];
}

/** Runs the job `after` names unless its newest run succeeded and nothing it reads changes now; waits for it. */
export function runAfterJob(ctx: ApplyContext, after: string | undefined): Promise<void> {
  return after ? ctx.once(`jobs.${after} succeeded`, () => succeed(ctx, after)) : Promise.resolve();
}

function syncedFileKeys(ctx: Pick<NormaliseContext, "desired">): ResourceKey[] {
  return [...ctx.desired.files.keys()].map((to): ResourceKey => `files.${to}`);
}

async function succeed(ctx: ApplyContext, after: string): Promise<void> {
  const key: ResourceKey = `jobs.${after}`;
  const job_id = ctx.outputs.get(key)?.id;
  if (!job_id) throw new Error(`bug: ${key} has no id before what runs after it`);
  const project_id = ctx.projectId();
  const path = { project_id, job_id };
  const newest = async (): Promise<Schemas["JobRun"] | undefined> =>
    (
      await unwrap(
        ctx.api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
          params: { path, query: { page_size: 1, sort: "-created_at" } },
        }),
      )
    ).job_runs?.[0];
  const isActive = (run: Schemas["JobRun"] | undefined) =>
    run !== undefined && !TERMINAL_RUN_STATUSES.has(run.status ?? "");
  const last = await newest();
  const changed = [key, ...syncedFileKeys(ctx)].some((k) => (ctx.planned(k)?.action ?? "skip") !== "skip");
  if (!isActive(last) && last?.status === "ENGINE_SUCCEEDED" && !changed) return;
  const run = isActive(last)
    ? last
    : await createIdempotently(
        () => unwrap(ctx.api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs", { params: { path }, body: {} })),
        // A lost answer: the run we started is the job's active one (a job has at most one).
        async () => {
          const found = await newest();
          return isActive(found) ? found : undefined;
        },
        ctx.signal,
      );
  const run_id = run?.id ?? "";
  const done = await waits.jobRunFinished(ctx.api, project_id, job_id, run_id, ctx.wait(`${key} to succeed`));
  if (done.status === "ENGINE_SUCCEEDED") return;
  const tail = await logTail(ctx, `/projects/${project_id}/jobs/${job_id}/runs/${run_id}/logs`);
  throw new Error(
    `${key} (run ${run_id}) ended ${done.status ?? "without a status"}; what runs after it was not started` +
      (tail ? `\n  last log lines:\n${tail}` : `; see its log in CML (or: deploy logs job ${after})`),
  );
}
