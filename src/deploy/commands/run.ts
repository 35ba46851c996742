/**
 * `deploy run JOB`: start a run of one of the manifest's jobs; with --wait/--follow, wait for it (streaming its
 * log with --follow) and exit with its outcome: 0 succeeded, 1 failed, stopped or timed out.
 */
import { formatDuration } from "../../client/index.js";
import { manifestOptions, manifestRequest, numberOption, platformDirOption, WEEK_S } from "../../shared/cli-options.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { type JobRunResult, runJob } from "../operations/run-job.js";
import { openStack } from "../session.js";

export const runCommand: CliCommand = (ctx) =>
  defineCommand({
    command: "run <job> [manifest]",
    describe: "Start a run of a manifest job; --wait for its outcome (exit code), --follow to stream its log",
    builder: (y) =>
      platformDirOption(
        manifestOptions(
          y.positional("job", {
            type: "string",
            demandOption: true,
            describe: "job key in the manifest (or its name)",
          }),
        )
          .option("wait", { type: "boolean", default: false, describe: "wait for the run to finish" })
          .option("follow", {
            type: "boolean",
            default: false,
            describe: "stream the run's log while it runs (implies --wait)",
          })
          .option(
            "timeout",
            numberOption("timeout", { min: 1, max: WEEK_S }, { default: 3600, describe: "seconds to wait" }),
          )
          .option("json", { type: "boolean", default: false, describe: "print the run as JSON" }),
      )
        .example("$0 run scrape manifests/lab.yaml --target local --follow", "run the scrape job and stream its log")
        .example("$0 run ask --var question='What is CML?' --wait", "run a job with a variable; exit code = outcome")
        .epilog("Exit codes: 0 started (or succeeded with --wait); 1 failed, stopped, timed out or error."),
    handler: async (args) => {
      const stack = await openStack(manifestRequest(args, ctx.io));
      const waiting = args.wait || args.follow;
      let started = false;
      let result: JobRunResult;
      try {
        result = await runJob(stack, {
          job: args.job,
          wait: waiting,
          timeoutMs: args.timeout * 1000,
          ...(args.follow ? { onLog: (t: string) => ctx.io.stdout(t) } : {}),
          onStarted: (run, job) => {
            started = true;
            if (!waiting) {
              if (args.json) ctx.io.stdout(`${JSON.stringify(run, null, 2)}\n`);
              else ctx.io.stdout(`started run ${run.id ?? ""} of jobs.${job.key}\n`);
            } else if (!args.json) ctx.io.stderr(`run ${run.id ?? ""} of jobs.${job.key} started\n`);
          },
        });
      } catch (error) {
        // Once the run started, a wait that ends without an outcome is the run's failure, reported as such.
        if (!started) throw error;
        ctx.io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        ctx.exitCode = 1;
        return;
      }
      if (!waiting) return;
      const { run: finished, job } = result;
      if (args.json) ctx.io.stdout(`${JSON.stringify(finished, null, 2)}\n`);
      else {
        const took =
          finished.running_at && finished.finished_at
            ? ` in ${formatDuration(Date.parse(finished.finished_at) - Date.parse(finished.running_at))}`
            : "";
        ctx.io.stderr(`run ${finished.id ?? ""} of jobs.${job.key}: ${finished.status}${took}\n`);
      }
      ctx.exitCode = result.succeeded ? 0 : 1;
    },
  });
