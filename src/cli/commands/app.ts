/** `cml-lab app`: the chat application (what a CML application's script runs). */

import { UserError } from "../../shared/errors.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { startChatServer } from "../../workloads/app/listen.js";
import { dataDirReady, defaultDataDir, openRetrieverFor, retrievalWorkers } from "../../workloads/app/retrievers.js";
import { storeChoices } from "../../workloads/app/stores.js";

interface AppArgs {
  port?: number;
  host?: string;
  "data-dir"?: string;
}

export const appCommand: CliCommand = (ctx) =>
  defineCommand<AppArgs>({
    command: "app",
    describe: "Serve the chat application (port: --port, CDSW_APP_PORT, PORT, else 8100)",
    builder: (y) =>
      y
        .option("port", { type: "number", describe: "Port to listen on" })
        .option("host", { type: "string", describe: "Address to bind (default 127.0.0.1; CML's proxy fronts the app)" })
        .option("data-dir", {
          type: "string",
          describe: "Where ingest wrote its stores (default $CML_LAB_DATA or ./data)",
        }),
    handler: async (args) => {
      const { io } = ctx;
      if (args.port !== undefined && (!Number.isInteger(args.port) || args.port < 0 || args.port > 65_535)) {
        throw new UserError(`--port ${args.port} is not a port number (0–65535)`);
      }
      const dataDir = defaultDataDir(io.env, io.cwd, args["data-dir"]);
      const log = (line: string) => io.stderr(`${new Date().toISOString()} ${line}\n`);
      const workers = retrievalWorkers(io.env);
      const server = await startChatServer({
        ...(args.port !== undefined ? { port: args.port } : {}),
        host: args.host ?? io.env.CML_LAB_HOST ?? "127.0.0.1",
        env: io.env,
        stores: storeChoices(io.env, dataDirReady(dataDir)),
        // The local index on retrieval threads, reopened when ingest rebuilds it; opened and warmed now, so the
        // first question does not wait for it (/healthz says ready once it is).
        openRetriever: openRetrieverFor(dataDir, io.env, { ...(workers !== undefined ? { workers } : {}), log }),
        warmAtStart: true,
        log,
      }).catch((error: unknown) => {
        const code = error instanceof Error && "code" in error ? String(error.code) : "";
        if (code === "EADDRINUSE") throw new UserError("the port is already in use; pass --port or set PORT");
        throw error;
      });
      io.stdout(`cml-lab chat app listening on ${server.url} (data: ${dataDir})\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await server.close();
    },
  });
