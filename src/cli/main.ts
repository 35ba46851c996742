import type { CliIo } from "../shared/io.js";
import { type CliCommand, runCli } from "../shared/run-cli.js";
import { appCommand } from "./commands/app.js";
import { chromaCommand } from "./commands/chroma.js";
import { docsSiteCommand } from "./commands/docs-site.js";
import { evalCommand } from "./commands/eval.js";
import { ingestCommand } from "./commands/ingest.js";
import { queryCommand } from "./commands/query.js";
import { startCommand, stopCommand } from "./commands/start.js";

/** Every `cml-lab` command (workloads, eval, start); each lives in commands/<name>.ts. */
const commands: CliCommand[] = [
  startCommand,
  ingestCommand,
  appCommand,
  queryCommand,
  evalCommand,
  chromaCommand,
  docsSiteCommand,
  stopCommand,
];

export function main(argv: readonly string[], io: CliIo): Promise<number> {
  return runCli("cml-lab", argv, io, commands);
}
