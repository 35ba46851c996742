/**
 * `deploy validate [manifest]`: every problem in a manifest at once, as text (file:line:col, the line, a caret),
 * GitHub annotations or JSON (text diagnostics on stderr; the JSON and GitHub formats on stdout). Exit 0 when valid (warnings allowed), 1 when not.
 */
import { manifestOptions, parseVars, platformDirOption } from "../../shared/cli-options.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { openTarget } from "../connection.js";
import { type DiagnosticFormat, formatDiagnostics, hasErrors, loadManifest } from "../manifest/index.js";
import { onlineChecks } from "../operations/online-checks.js";
import { connect } from "../session.js";

const FORMATS = ["text", "github", "json"] as const;

export const validateCommand: CliCommand = (ctx) =>
  defineCommand({
    command: "validate [manifest]",
    describe:
      "Check a manifest: schema, references, dependencies, subdomains and scripts (--online: against the target too)",
    builder: (y) =>
      platformDirOption(
        manifestOptions(y, "target to resolve (default: the manifest's default target)")
          .option("format", { choices: FORMATS, default: "text" as const, describe: "diagnostics format" })
          .option("require-secrets", {
            type: "boolean",
            default: false,
            describe:
              "treat a secret that is not set as an error (by default a warning, so CI without secrets can validate)",
          })
          .option("online", {
            type: "boolean",
            default: false,
            describe:
              "also ask the target what only it knows: the API key works, runtimes exist, no foreign object holds our names, unsynced scripts are in the project",
          }),
      )
        .example("$0 validate manifests/lab.yaml --target workspace", "validate for the workspace target")
        .example("$0 validate manifests/lab.yaml --target workspace --online", "…and check it against the workspace")
        .example("$0 validate --format github", "annotate a pull request from a GitHub Actions step"),
    handler: async (args) => {
      const vars = parseVars(args.var ?? []);
      const format: DiagnosticFormat = args.format;
      const result = await loadManifest(args.manifest, {
        ...(args.target !== undefined ? { target: args.target } : {}),
        vars,
        missingSecrets: args["require-secrets"] ? "error" : "warn",
        env: ctx.io.env,
        cwd: ctx.io.cwd,
      });
      if (args.online && result.manifest && !hasErrors(result.diagnostics)) {
        const session = {
          env: ctx.io.env,
          cwd: ctx.io.cwd,
          ...(args["data-dir"] ? { dataDir: args["data-dir"] } : {}),
        };
        const target = openTarget(await connect(result.manifest, session));
        result.diagnostics.push(...(await onlineChecks(result.manifest, target)));
        if (hasErrors(result.diagnostics)) result.manifest = undefined;
      }
      const color = format === "text" && ctx.io.isTTY && !ctx.io.env.NO_COLOR;
      const rendered = formatDiagnostics(result.diagnostics, format, { color });
      // Text diagnostics are messages for a person: stderr, so `validate … > out` or a pipe still shows them.
      // JSON and GitHub annotations are the command's output for a program: stdout.
      if (rendered) (format === "text" ? ctx.io.stderr : ctx.io.stdout)(rendered);
      if (result.manifest && format === "text") {
        const m = result.manifest;
        const count = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
        ctx.io.stdout(
          `${args.manifest} is valid (target ${m.target.name}: ${count(Object.keys(m.jobs).length, "job")}, ${count(Object.keys(m.applications).length, "application")}, ${count(Object.keys(m.models).length, "model")}, ${count(m.files.length, "file sync")})\n`,
        );
        for (const skipped of m.skipped ?? []) ctx.io.stdout(`  skipped ${skipped.key}: ${skipped.reason}\n`);
      }
      ctx.exitCode = hasErrors(result.diagnostics) || !result.manifest ? 1 : 0;
    },
  });
