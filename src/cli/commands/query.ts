/** `cml-lab query "question"`: one answer through the chat app's pipeline, printed with sources and timings. */

import { describeLabStore, resolveStores } from "../../lab/running-store.js";
import { numberOption, storeReaderOptions } from "../../shared/cli-options.js";
import { UserError } from "../../shared/errors.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { dataDirReady, defaultDataDir, openRetrieverFor } from "../../workloads/app/retrievers.js";
import { chromaUrl } from "../../workloads/app/stores.js";
import { CHAT_LIMITS } from "../../workloads/app/validate.js";
import { QuerySetupError, renderQuery, runQuery } from "../../workloads/model-query/query.js";

interface QueryArgs {
  question: string;
  store: string;
  model: string;
  json: boolean;
  "data-dir"?: string;
  "platform-dir"?: string;
  temperature: number;
  "max-tokens": number;
  k: number;
}

export const queryCommand: CliCommand = (ctx) =>
  defineCommand<QueryArgs>({
    command: "query <question>",
    describe: "Answer one question from the ingested docs (the lab's model-query), with sources and timings",
    builder: (y) =>
      storeReaderOptions(
        y
          .positional("question", { type: "string", demandOption: true, describe: "The question" })
          .option("store", {
            type: "string",
            default: "local",
            choices: ["local", "chroma", "pinecone", "none"],
            describe: "Vector store to retrieve from (none: ask the model directly)",
          })
          .option("model", {
            type: "string",
            default: "offline",
            choices: ["offline", "bedrock", "cml", "openai"],
            describe: "Model back-end",
          })
          .option("json", { type: "boolean", default: false, describe: "Print one JSON object" }),
      )
        .option("temperature", numberOption("temperature", { min: 0, max: 1 }, { default: 0.2, describe: "0–1" }))
        .option(
          "max-tokens",
          numberOption("max-tokens", { min: 1, max: 4_096, integer: true }, { default: 512, describe: "1–4096" }),
        )
        .option(
          "k",
          numberOption(
            "k",
            { ...CHAT_LIMITS.sources, integer: true },
            { default: 5, describe: "Sources to retrieve (1–20)" },
          ),
        )
        .example('$0 query "How do I create a CML job?"', "after `npm start`: the running lab's Chroma, offline model")
        .example(
          '$0 query "What is an engine?" --data-dir data --json',
          "the stores `cml-lab ingest run` wrote to ./data",
        )
        .example(
          'CML_LAB_CHROMA_URL=http://127.0.0.1:8000 $0 query "What is a runtime?" --store chroma',
          "a Chroma server of your own (see `cml-lab chroma serve`)",
        )
        .epilog(
          "Where the passages come from: --data-dir (or $CML_LAB_DATA, else ./data) when it holds an ingested index; " +
            "for --store chroma the Chroma server at $CML_LAB_CHROMA_URL (or $CHROMA_URL). When neither is there, " +
            "the running lab's Chroma (the vectordb application of `npm start`, found through the local platform in " +
            "--platform-dir) is used, and the command says so on stderr.",
        ),
    handler: async (args) => {
      const { io } = ctx;
      const ownDataDir = defaultDataDir(io.env, io.cwd, args["data-dir"]);
      const ready = dataDirReady(ownDataDir);
      // With no store of its own (no local index here, no Chroma URL), a local or chroma query reads the running
      // lab's Chroma (src/lab/running-store.ts), and says so.
      const setup =
        args.store === "local" || args.store === "chroma"
          ? await resolveStores({
              dataDir: ownDataDir,
              dataDirReady: args.store === "local" ? ready : false,
              env: io.env,
              cwd: io.cwd,
              ...(args["platform-dir"] !== undefined ? { platformDir: args["platform-dir"] } : {}),
              chromaConfigured: Boolean(chromaUrl(io.env)),
            })
          : { dataDir: ownDataDir, env: io.env };
      const store = setup.lab ? "chroma" : args.store;
      if (setup.lab) io.stderr(`${describeLabStore(setup.lab, ownDataDir, io.cwd)}\n`);
      else if (args.store === "local" && !ready) {
        throw new UserError(`no ingested data in ${ownDataDir}, and no lab running on the local platform`, {
          notes: [
            "run `npm start` (the lab's store is then used), or `cml-lab ingest` first, or pass --data-dir / --store none",
          ],
        });
      }
      const dataDir = setup.dataDir;
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      try {
        const result = await runQuery({
          question: args.question,
          model: args.model,
          store,
          env: setup.env,
          openRetriever: openRetrieverFor(dataDir, setup.env),
          temperature: args.temperature,
          maxTokens: args["max-tokens"],
          k: args.k,
          signal: controller.signal,
        });
        if (args.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
        else io.stdout(`${renderQuery(result).join("\n")}\n`);
        if (result.error) {
          if (!args.json) io.stderr(`error: ${result.error}\n`);
          ctx.exitCode = 1;
        }
      } catch (error) {
        if (error instanceof QuerySetupError) throw new UserError(error.message);
        throw error;
      } finally {
        process.off("SIGINT", stop);
      }
    },
  });
