/**
 * `deploy schema`: the manifest JSON Schema (for editors: `# yaml-language-server: $schema=…`). `--write DIR`
 * writes the committed copies and `--docs FILE` the field reference (both: npm run gen:schema); tests fail when
 * either drifts from schema.ts.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { renderFieldReference, replaceGeneratedBlock } from "../manifest/docs.js";
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
        })
        .option("docs", {
          type: "string",
          describe: "also regenerate the field reference block in this markdown file",
        })
        .example("$0 schema > manifest.schema.json", "point your editor's YAML language server at it")
        .example(
          "$0 schema --write schema --docs docs/manifest.md",
          "regenerate the schema files and the field reference",
        ),
    handler: async (args) => {
      const files = schemaFiles();
      if (args.docs !== undefined) {
        const file = path.resolve(ctx.io.cwd, args.docs);
        await writeFile(file, replaceGeneratedBlock(await readFile(file, "utf8"), renderFieldReference()));
        ctx.io.stdout(`wrote ${args.docs}\n`);
      }
      if (args.write !== undefined) {
        const dir = path.resolve(ctx.io.cwd, args.write);
        await mkdir(dir, { recursive: true });
        for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
        ctx.io.stdout(
          `wrote ${Object.keys(files)
            .map((n) => path.join(args.write ?? "", n))
            .join(", ")}\n`,
        );
      }
      if (args.write === undefined && args.docs === undefined)
        ctx.io.stdout(files[args.include ? "manifest-include.schema.json" : "manifest.schema.json"] ?? "");
    },
  });
