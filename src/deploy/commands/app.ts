/**
 * `deploy app set-script APP SCRIPT`: re-point an application without a manifest (thin handler; the work is
 * operations/set-app-script.ts, which is also a library function).
 */
import { formatDuration } from "../../client/index.js";
import { connectionOptions, DAY_S, numberOption } from "../../shared/cli-options.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { connectFromArgs } from "../connection.js";
import { type SetAppScriptEvent, setAppScript } from "../operations/set-app-script.js";

export const appCommand: CliCommand = (ctx) =>
  defineCommand({
    command: "app <action>",
    describe: "Change one application directly (no manifest)",
    builder: (y) =>
      y
        .command(
          "set-script <app> <script>",
          "Point an application at another script in its project, restart it and wait until it runs",
          (s) =>
            connectionOptions(
              s
                .positional("app", { type: "string", demandOption: true, describe: "application name or subdomain" })
                .positional("script", {
                  type: "string",
                  demandOption: true,
                  describe: "project-relative path, already uploaded",
                })
                .option("project", { type: "string", demandOption: true, describe: "project name" })
                .option("restart", {
                  type: "boolean",
                  default: true,
                  describe: "restart so the change takes effect (--no-restart to skip)",
                })
                .option(
                  "timeout",
                  numberOption(
                    "timeout",
                    { min: 1, max: DAY_S },
                    {
                      default: 600,
                      describe: "seconds to wait for the application to run",
                    },
                  ),
                )
                .option("json", {
                  type: "boolean",
                  default: false,
                  describe: "print the application as JSON when done",
                }),
            ).example(
              "$0 app set-script chat workloads/app/final.py --project 'LLM Hands-on Lab'",
              "the lab's last exercise",
            ),
          async (args) => {
            const { api } = await connectFromArgs(args, ctx.io);
            const result = await setAppScript(
              api,
              {
                project: args.project,
                application: args.app,
                script: args.script,
                restart: args.restart,
                wait: { timeoutMs: args.timeout * 1000 },
              },
              args.json ? undefined : (event) => ctx.io.stderr(renderEvent(event)),
            );
            if (args.json) ctx.io.stdout(`${JSON.stringify(result.application, null, 2)}\n`);
            else if (result.changed)
              ctx.io.stdout(
                `application ${args.app} now runs ${args.script}${result.restarted ? "" : " (after its next restart)"}\n`,
              );
          },
        )
        .demandCommand(1, "Name an app action; see deploy app --help.")
        .example(
          "$0 app set-script chat workloads/app/final.py --project 'LLM Hands-on Lab'",
          "switch the chat app's script",
        ),
    handler: () => {},
  });

function renderEvent(event: SetAppScriptEvent): string {
  switch (event.type) {
    case "found":
      return `application ${event.applicationId}: ${event.from ?? "(no script)"} → ${event.to}\n`;
    case "unchanged":
      return `already runs ${event.script}; nothing to do\n`;
    case "patched":
      return "script updated\n";
    case "restarting":
      return "restarting\n";
    case "waiting":
      return `  ${event.status} (${formatDuration(event.elapsedMs)})\n`;
    case "running":
      return "running\n";
  }
}
