/** `cml-lab app`: the chat application (what a CML application's script runs). */

import { describeLabStore, resolveStores } from "../../lab/running-store.js";
import { numberOption, PORT_RANGE, storeReaderOptions } from "../../shared/cli-options.js";
import { UserError } from "../../shared/errors.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { startChatServer } from "../../workloads/app/listen.js";
import { dataDirReady, defaultDataDir, openRetrieverFor, retrievalWorkers } from "../../workloads/app/retrievers.js";
import { chromaUrl, storeChoices } from "../../workloads/app/stores.js";

interface AppArgs {
  port?: number;
  host?: string;
  "data-dir"?: string;
  "platform-dir"?: string;
}

export const appCommand: CliCommand = (ctx) =>
  defineCommand<AppArgs>({
    command: "app",
    describe: "Serve the chat application (port: --port, CDSW_APP_PORT, PORT, else 8100)",
    builder: (y) =>
      storeReaderOptions(
        y.option("port", numberOption("port", PORT_RANGE, { describe: "Port to listen on" })).option("host", {
          type: "string",
          describe: "Address to bind (default 127.0.0.1; CML's proxy fronts the app)",
        }),
      )
        .example("$0 app --port 8100", "chat at http://127.0.0.1:8100 over ./data, or the running lab's Chroma")
        .example("CML_LAB_CHROMA_URL=http://127.0.0.1:8000 $0 app", "retrieve from a Chroma server of your own"),
    handler: async (args) => {
      const { io } = ctx;
      if (args.port !== undefined && (!Number.isInteger(args.port) || args.port < 0 || args.port > 65_535)) {
        throw new UserError(`--port ${args.port} is not a port number (0–65535)`);
      }
      const ownDataDir = defaultDataDir(io.env, io.cwd, args["data-dir"]);
      // Nothing ingested here and no Chroma URL: serve the running lab's Chroma (src/lab/running-store.ts).
      const { dataDir, env, lab } = await resolveStores({
        dataDir: ownDataDir,
        dataDirReady: dataDirReady(ownDataDir),
        env: io.env,
        cwd: io.cwd,
        ...(args["platform-dir"] !== undefined ? { platformDir: args["platform-dir"] } : {}),
        chromaConfigured: Boolean(chromaUrl(io.env)),
      });
      if (lab) io.stderr(`${describeLabStore(lab, ownDataDir, io.cwd)}\n`);
      const log = (line: string) => io.stderr(`${new Date().toISOString()} ${line}\n`);
      const workers = retrievalWorkers(env);
      const server = await startChatServer({
        ...(args.port !== undefined ? { port: args.port } : {}),
        host: args.host ?? io.env.CML_LAB_HOST ?? "127.0.0.1",
        env,
        stores: storeChoices(env, dataDirReady(dataDir)),
        // The local index on retrieval threads, reopened when ingest rebuilds it; opened and warmed now, so the
        // first question does not wait for it (/healthz says ready once it is).
        openRetriever: openRetrieverFor(dataDir, env, { ...(workers !== undefined ? { workers } : {}), log }),
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
