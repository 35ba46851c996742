/**
 * `cml-lab chroma serve`: the lab's Chroma vector database as a long-running workload. In the lab manifest it
 * is the `vectordb` application, so ingest jobs and the chat app share one server (and one writer) instead of
 * each opening the project's Chroma directory.
 */
import { resolve } from "node:path";
import type { Argv } from "yargs";
import { numberOption, PORT_RANGE } from "../../shared/cli-options.js";
import { UserError } from "../../shared/errors.js";
import { type CliCommand, type CommandContext, defineCommand } from "../../shared/run-cli.js";
import { startChromaServer } from "../../workloads/chroma/server.js";

interface ServeArgs {
  path: string;
  host: string;
  port: number | undefined;
}

export const chromaCommand: CliCommand = (ctx) =>
  defineCommand<object>({
    command: "chroma",
    describe: "Run the Chroma vector database the lab's jobs and chat app share",
    builder: (y) =>
      y
        .command(serveCommand(ctx))
        .demandCommand(1, "Name a chroma command: serve")
        .example("$0 chroma serve --port 8000", "then: CML_LAB_CHROMA_URL=http://127.0.0.1:8000 cml-lab query …"),
    handler: () => undefined,
  });

function serveCommand(ctx: CommandContext) {
  return {
    command: "serve",
    describe: "Serve a Chroma directory over HTTP until stopped",
    builder: (y: Argv) =>
      y
        .option("path", { type: "string", default: "data/chroma", describe: "Directory Chroma persists to" })
        .option("host", { type: "string", default: "127.0.0.1", describe: "Address to bind (CML's proxy fronts it)" })
        .option(
          "port",
          numberOption("port", PORT_RANGE, {
            describe: "Port to listen on (default: CDSW_APP_PORT, as a CML application; else any free port)",
          }),
        )
        .example("$0 chroma serve --path data/chroma --port 8000", "serve ./data/chroma on http://127.0.0.1:8000"),
    handler: async (args: ServeArgs) => {
      const port = args.port ?? (Number(ctx.io.env.CDSW_APP_PORT) || undefined);
      const server = await startChromaServer({ path: resolve(ctx.io.cwd, args.path), host: args.host, port });
      ctx.io.stdout(`chroma: serving ${server.path} at ${server.url}\n`);
      // CML stops an application with SIGTERM; stop the server with it so its files are closed cleanly.
      const stop = () => void server.close();
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
      const code = await server.exited;
      if (code !== 0 && code !== null) throw new UserError(`chroma stopped with exit code ${code}`);
    },
  };
}
