/**
 * `deploy plan [manifest]`: what apply would do, field by field, without changing anything.
 */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { manifestOptions, manifestRequest, platformDirOption } from "../../shared/cli-options.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { planSummaryLine } from "../engine/actions.js";
import { countActions, renderPlan, useColor } from "../engine/render.js";
import { renderPlanMarkdown } from "../engine/render-markdown.js";
import { openSession, openStack } from "../session.js";

export const planCommand: CliCommand = (ctx) =>
  defineCommand({
    command: "plan [manifest]",
    describe: "Show what apply would change, field by field (reads the workspace, changes nothing)",
    builder: (y) =>
      platformDirOption(
        manifestOptions(y)
          .option("json", { type: "boolean", default: false, describe: "print the plan document as JSON" })
          .option("format", {
            choices: ["text", "json", "markdown"] as const,
            default: "text" as const,
            describe: "text, json (= --json), or markdown for a pull-request comment",
          })
          .option("out", { type: "string", describe: "save the plan (with its fingerprint) for `apply --plan`" })
          .option("detailed-exitcode", {
            type: "boolean",
            default: false,
            describe: "exit 0 when nothing would change, 2 when something would, 1 on error",
          })
          .option("adopt", {
            type: "boolean",
            default: false,
            describe: "manage existing objects that lack our marker",
          })
          .option("all", { type: "boolean", default: false, describe: "also list unchanged resources" }),
      )
        .epilog("Exit codes: 0 no changes (or success); 1 error or conflict; 2 changes present (--detailed-exitcode).")
        .example("$0 plan manifests/lab.yaml --detailed-exitcode", "CI: fail the job on drift"),
    handler: async (args) => {
      const stack = await openStack(manifestRequest(args, ctx.io));
      const session = await openSession(stack, { adopt: args.adopt });
      const p = session.plan;
      if (args.out) await writeFile(resolve(ctx.io.cwd, args.out), `${JSON.stringify(p, null, 2)}\n`);
      const json = args.json || args.format === "json";
      if (json) ctx.io.stdout(`${JSON.stringify(p, null, 2)}\n`);
      else if (args.format === "markdown") ctx.io.stdout(`${renderPlanMarkdown(p).join("\n")}\n`);
      else {
        const lines = renderPlan(p, { color: useColor(ctx.io.isTTY, ctx.io.env), showUnchanged: args.all });
        ctx.io.stdout(`${lines.join("\n")}\n`);
      }
      const counts = countActions(p);
      const changes = p.entries.length - counts.skip;
      if (p.conflicts.length > 0) ctx.exitCode = 1;
      else if (args["detailed-exitcode"] && changes > 0) ctx.exitCode = 2;
      if (json || args.format === "markdown") ctx.io.stderr(`${planSummaryLine(counts)}\n`);
    },
  });
