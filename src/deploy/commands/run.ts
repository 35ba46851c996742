/**
 * `deploy run JOB`: start a run of one of the manifest's jobs; with --wait/--follow, wait for it (streaming its
 * log with --follow) and exit with its outcome: 0 succeeded, 1 failed, stopped or timed out.
 */
import { formatDuration, type Schemas, TERMINAL_RUN_STATUSES, unwrap, waitFor } from "../../client/index.js";
import { UserError } from "../../shared/errors.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { logFollower, openProject } from "../engine/session.js";
import { DEFAULT_MANIFEST, parseVars } from "./validate.js";

export const runCommand: CliCommand = (ctx) =>
  defineCommand({
    command: "run <job> [manifest]",
    describe: "Start a run of a manifest job; --wait for its outcome (exit code), --follow to stream its log",
    builder: (y) =>
      y
        .positional("job", { type: "string", demandOption: true, describe: "job key in the manifest (or its name)" })
        .positional("manifest", { type: "string", default: DEFAULT_MANIFEST, describe: "manifest file" })
        .option("target", { type: "string", describe: "target (default: the manifest's default target)" })
        .option("var", { type: "string", array: true, describe: "name=value; sets a manifest variable (repeatable)" })
        .option("wait", { type: "boolean", default: false, describe: "wait for the run to finish" })
        .option("follow", {
          type: "boolean",
          default: false,
          describe: "stream the run's log while it runs (implies --wait)",
        })
        .option("timeout", { type: "number", default: 3600, describe: "seconds to wait" })
        .option("json", { type: "boolean", default: false, describe: "print the run as JSON" })
        .option("data-dir", { type: "string", describe: "local platform data directory (default .cml-local)" })
        .example("$0 run scrape manifests/lab.yaml --target local --follow", "run the scrape job and stream its log")
        .example("$0 run ask --var question='What is CML?' --wait", "run a job with a variable; exit code = outcome")
        .epilog("Exit codes: 0 started (or succeeded with --wait); 1 failed, stopped, timed out or error."),
    handler: async (args) => {
      const { manifest, api, projectId } = await openProject({
        manifest: args.manifest,
        ...(args.target !== undefined ? { target: args.target } : {}),
        vars: parseVars(args.var ?? []),
        io: ctx.io,
        ...(args["data-dir"] !== undefined ? { dataDir: args["data-dir"] } : {}),
      });
      const spec = manifest.jobs[args.job] ?? Object.values(manifest.jobs).find((j) => j.name === args.job);
      if (!spec)
        throw new UserError(`the manifest has no job ${args.job}`, {
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
          notes: [`create it with \`deploy apply ${args.manifest}\``],
        });
      const job_id = job.id;
      const started = await unwrap(
        api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
          params: { path: { project_id: projectId, job_id } },
          body: {},
        }),
      );
      const run_id = started.id ?? "";
      if (!args.wait && !args.follow) {
        if (args.json) ctx.io.stdout(`${JSON.stringify(started, null, 2)}\n`);
        else ctx.io.stdout(`started run ${run_id} of jobs.${spec.key}\n`);
        return;
      }
      if (!args.json) ctx.io.stderr(`run ${run_id} of jobs.${spec.key} started\n`);
      const follower = args.follow
        ? logFollower(api, `/projects/${projectId}/jobs/${job_id}/runs/${run_id}/logs`, (t) => ctx.io.stdout(t))
        : undefined;
      let finished: Schemas["JobRun"];
      try {
        finished = await waitFor(
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
            timeoutMs: args.timeout * 1000,
            intervalMs: args.follow ? 500 : 2000,
          },
        );
      } catch (error) {
        ctx.io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        ctx.exitCode = 1;
        return;
      }
      await follower?.poll();
      const ok = finished.status === "ENGINE_SUCCEEDED";
      if (args.json) ctx.io.stdout(`${JSON.stringify(finished, null, 2)}\n`);
      else {
        const took =
          finished.running_at && finished.finished_at
            ? ` in ${formatDuration(Date.parse(finished.finished_at) - Date.parse(finished.running_at))}`
            : "";
        ctx.io.stderr(`run ${run_id} of jobs.${spec.key}: ${finished.status}${took}\n`);
      }
      ctx.exitCode = ok ? 0 : 1;
    },
  });
