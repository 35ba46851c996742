/**
 * `deploy logs job|app|model NAME`: the log of a job's latest run, an application, or a model's current
 * deployment. CML's API has no log endpoint; the local platform adds one (src/local/README.md), so on a workspace
 * this says where to look instead.
 */
import { findApplicationBySubdomain, findOneByName, unwrap } from "../../client/index.js";
import { manifestOptions, manifestRequest, numberOption, platformDirOption, WEEK_S } from "../../shared/cli-options.js";
import { UserError } from "../../shared/errors.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { pollUntil, WaitTimeoutError } from "../../shared/wait.js";
import { logFollower } from "../operations/logs.js";
import { openProject } from "../session.js";

const KINDS = ["job", "app", "model"] as const;

export const logsCommand: CliCommand = (ctx) =>
  defineCommand({
    command: "logs <kind> <name> [manifest]",
    describe: "Print the log of a job's latest run, an application or a model deployment",
    builder: (y) =>
      platformDirOption(
        manifestOptions(
          y
            .positional("kind", { choices: KINDS, demandOption: true, describe: "what to read" })
            .positional("name", { type: "string", demandOption: true, describe: "manifest key (or CML name)" }),
        )
          .option("follow", { type: "boolean", default: false, describe: "keep printing new lines" })
          .option(
            "timeout",
            numberOption(
              "timeout",
              { min: 1, max: WEEK_S },
              { default: 600, describe: "with --follow: stop after this many seconds" },
            ),
          ),
      )
        .example("$0 logs job scrape manifests/lab.yaml --target local", "the log of the scrape job's latest run")
        .example("$0 logs app chat --follow", "follow the chat application's log"),
    handler: async (args) => {
      const { manifest, target, projectId } = await openProject(manifestRequest(args, ctx.io));
      const { api } = target;
      const project_id = projectId;
      let path: string;
      if (args.kind === "job") {
        const name = manifest.jobs[args.name]?.name ?? args.name;
        const job = await findOneByName(api, "job", { projectId, name });
        if (!job?.id) throw new UserError(`no job ${name} in project "${manifest.project.name}"`);
        const runs = await unwrap(
          api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
            params: { path: { project_id, job_id: job.id }, query: { sort: "-created_at", page_size: 1 } },
          }),
        );
        const run = newest(runs.job_runs ?? []);
        if (!run?.id)
          throw new UserError(`job ${name} has not run yet`, { notes: [`start it: deploy run ${args.name}`] });
        path = `/projects/${project_id}/jobs/${job.id}/runs/${run.id}/logs`;
      } else if (args.kind === "app") {
        const subdomain = manifest.applications[args.name]?.subdomain ?? args.name;
        const app =
          (await findApplicationBySubdomain(api, projectId, subdomain)) ??
          (await findOneByName(api, "application", { projectId, name: args.name }));
        if (!app?.id) throw new UserError(`no application ${args.name} in project "${manifest.project.name}"`);
        path = `/projects/${project_id}/applications/${app.id}/logs`;
      } else {
        const name = manifest.models[args.name]?.name ?? args.name;
        const model = await findOneByName(api, "model", { projectId, name });
        if (!model?.id) throw new UserError(`no model ${name} in project "${manifest.project.name}"`);
        const builds = await unwrap(
          api.GET("/api/v2/projects/{project_id}/models/{model_id}/builds", {
            params: { path: { project_id, model_id: model.id }, query: { page_size: 100 } },
          }),
        );
        const build = newest(builds.model_builds ?? []);
        if (!build?.id) throw new UserError(`model ${name} has no build yet`);
        const deployments = await unwrap(
          api.GET("/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/deployments", {
            params: { path: { project_id, model_id: model.id, build_id: build.id }, query: { page_size: 100 } },
          }),
        );
        const deployment = newest(deployments.model_deployments ?? []);
        path = deployment?.id
          ? `/projects/${project_id}/models/${model.id}/builds/${build.id}/deployments/${deployment.id}/logs`
          : `/projects/${project_id}/models/${model.id}/builds/${build.id}/logs`;
      }
      const follower = logFollower(api, target.platform, path, (t) => ctx.io.stdout(t));
      await follower.poll();
      if (!args.follow) return;
      // Following is a wait that never succeeds: it polls the log until the --timeout runs out.
      await pollUntil(() => follower.poll(), {
        what: "the log",
        until: () => false,
        timeoutMs: args.timeout * 1000,
        intervalMs: 1000,
      }).catch((error: unknown) => {
        if (!(error instanceof WaitTimeoutError)) throw error;
      });
    },
  });

function newest<T extends { created_at?: string }>(items: T[]): T | undefined {
  return [...items].sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? ""))[0];
}
