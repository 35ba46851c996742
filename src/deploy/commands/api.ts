/**
 * `deploy api METHOD PATH`: a raw call for operators and debugging, like `gh api`. Prints the JSON answer.
 */
import { rawRequest } from "../../client/index.js";
import { connectionOptions } from "../../shared/cli-options.js";
import { UserError } from "../../shared/errors.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { connectFromArgs } from "../connection.js";

const METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"] as const;

export const apiCommand: CliCommand = (ctx) =>
  defineCommand({
    command: "api <method> <path>",
    describe: "Call any CML v2 API path and print the JSON answer (like `gh api`)",
    builder: (y) =>
      connectionOptions(
        y
          .positional("method", {
            type: "string",
            choices: METHODS,
            coerce: (m: string) => m.toUpperCase(),
            demandOption: true,
          })
          .positional("path", {
            type: "string",
            describe: "e.g. /projects or /api/v2/projects/ID/jobs",
            demandOption: true,
          })
          .option("field", {
            alias: "F",
            type: "string",
            array: true,
            describe:
              "key=value; typed (numbers, true/false, null, JSON). Query parameters for GET/DELETE, JSON body otherwise",
          })
          .option("raw-field", { alias: "f", type: "string", array: true, describe: "key=value sent as a string" }),
      )
        .example("$0 api GET /projects -F page_size=5", "list five projects")
        .example("$0 api POST /projects -f name=demo -f template=blank", "create a blank project")
        .example(
          '$0 api GET /projects -f search_filter=\'{"name":"lab"}\'',
          "search by name (substring, case-sensitive)",
        ),
    handler: async (args) => {
      const { api } = await connectFromArgs(args, ctx.io);
      const fields = { ...parseFields(args.field ?? [], true), ...parseFields(args["raw-field"] ?? [], false) };
      const method = String(args.method);
      const inQuery = method === "GET" || method === "DELETE";
      const result = await rawRequest(api, {
        method,
        path: String(args.path),
        query: inQuery
          ? Object.fromEntries(
              Object.entries(fields).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
            )
          : undefined,
        body: inQuery || Object.keys(fields).length === 0 ? undefined : fields,
      });
      ctx.io.stdout(`${result === undefined ? "" : JSON.stringify(result, null, 2)}\n`);
    },
  });

export function parseFields(pairs: readonly string[], typed: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UserError(`a field must look like key=value, got ${JSON.stringify(pair)}`);
    const value = pair.slice(eq + 1);
    out[pair.slice(0, eq)] = typed ? parseTyped(value) : value;
  }
  return out;
}

function parseTyped(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
