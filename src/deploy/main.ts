import type { CliIo } from "../shared/io.js";
import { type CliCommand, runCli } from "../shared/run-cli.js";
import { apiCommand } from "./commands/api.js";
import { appCommand } from "./commands/app.js";
import { applyCommand } from "./commands/apply.js";
import { destroyCommand } from "./commands/destroy.js";
import { importCommand } from "./commands/import.js";
import { localCommand } from "./commands/local.js";
import { logsCommand } from "./commands/logs.js";
import { planCommand } from "./commands/plan.js";
import { runCommand } from "./commands/run.js";
import { schemaCommand } from "./commands/schema.js";
import { validateCommand } from "./commands/validate.js";

/** Every `deploy` command; each lives in commands/<name>.ts as a thin yargs CommandModule (house style P11). */
const commands: CliCommand[] = [
  apiCommand,
  appCommand,
  localCommand,
  validateCommand,
  schemaCommand,
  planCommand,
  applyCommand,
  destroyCommand,
  importCommand,
  runCommand,
  logsCommand,
];

/** Runs the deploy CLI in-process and returns the exit code; only bin.ts calls process.exit. */
export function main(argv: readonly string[], io: CliIo): Promise<number> {
  return runCli("deploy", argv, io, commands, (y) =>
    y.epilog(
      "Exit codes: 0 success; 1 error (a user mistake prints the message only, a bug says so); 2 changes present (plan --detailed-exitcode).",
    ),
  );
}
