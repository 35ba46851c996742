// biome-ignore-all lint/suspicious/noTemplateCurlyInString: manifest references are ${…} in plain strings.
/** `deploy import --project NAME > manifest.yaml`: a manifest for an existing project (thin; engine/import.ts). */
import { connectionOptions } from "../../shared/cli-options.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { connectFromArgs } from "../connection.js";
import { manifestSecretKeys } from "../manifest/index.js";
import { importProject } from "../operations/import.js";

interface ImportArgs {
  project: string;
  stack?: string;
  target?: string;
  "data-dir"?: string;
  manifest?: string;
}

export const importCommand: CliCommand = (ctx) =>
  defineCommand<ImportArgs>({
    command: "import",
    describe: "Write a manifest for an existing project's jobs, applications and models (to stdout)",
    builder: (y) =>
      connectionOptions(
        y.option("project", { type: "string", demandOption: true, describe: "project name (exact)" }).option("stack", {
          type: "string",
          describe: "stack name for the manifest (default: from the project name)",
        }),
      )
        .option("manifest", {
          type: "string",
          describe: "a manifest for this project: variables it sets from ${secret:…} are written as references too",
        })
        .example("$0 import --project 'LLM Hands-on Lab' > lab.yaml", "then: deploy plan lab.yaml --adopt"),
    handler: async (args) => {
      const target = await connectFromArgs(args, ctx.io);
      const local = target.connection.source?.includes("local") ?? false;
      const secretKeys = args.manifest ? await manifestSecretKeys(args.manifest, ctx.io.cwd) : undefined;
      ctx.io.stdout(
        await importProject(target, {
          project: args.project,
          ...(args.stack ? { stack: args.stack } : {}),
          local,
          ...(secretKeys ? { secretKeys } : {}),
        }),
      );
    },
  });
