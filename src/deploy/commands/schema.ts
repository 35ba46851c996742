/**
 * `deploy schema`: the manifest JSON Schema (for editors: `# yaml-language-server: $schema=…`). `--write DIR`
 * writes the committed copies (npm run gen:schema); a test fails when they drift from schema.ts.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { schemaFiles } from "../manifest/index.js";

export const schemaCommand: CliCommand = (ctx) =>
  defineCommand({
    command: "schema",
    describe: "Print the manifest JSON Schema",
    builder: (y) =>
      y
        .option("include", { type: "boolean", default: false, describe: "the schema of an included file instead" })
        .option("write", {
          type: "string",
          describe: "write both schema files into this directory instead of printing",
        }),
    handler: async (args) => {
      const files = schemaFiles();
      if (args.write !== undefined) {
        const dir = path.resolve(ctx.io.cwd, args.write);
        await mkdir(dir, { recursive: true });
        for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
        ctx.io.stdout(
          `wrote ${Object.keys(files)
            .map((n) => path.join(args.write ?? "", n))
            .join(", ")}\n`,
        );
        return;
      }
      ctx.io.stdout(files[args.include ? "manifest-include.schema.json" : "manifest.schema.json"] ?? "");
    },
  });
