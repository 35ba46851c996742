/** `cml-lab query "question"`: one answer through the chat app's pipeline, printed with sources and timings. */

import { UserError } from "../../shared/errors.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { dataDirReady, defaultDataDir, openRetrieverFor } from "../../workloads/app/retrievers.js";
import { QuerySetupError, renderQuery, runQuery } from "../../workloads/model-query/query.js";

interface QueryArgs {
  question: string;
  store: string;
  model: string;
  json: boolean;
  "data-dir"?: string;
  temperature: number;
  "max-tokens": number;
  k: number;
}

export const queryCommand: CliCommand = (ctx) =>
  defineCommand<QueryArgs>({
    command: "query <question>",
    describe: "Answer one question from the ingested docs (the lab's model-query), with sources and timings",
    builder: (y) =>
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
        .option("json", { type: "boolean", default: false, describe: "Print one JSON object" })
        .option("data-dir", {
          type: "string",
          describe: "Where ingest wrote its stores (default $CML_LAB_DATA or ./data)",
        })
        .option("temperature", { type: "number", default: 0.2, describe: "0–1" })
        .option("max-tokens", { type: "number", default: 512, describe: "1–4096" })
        .option("k", { type: "number", default: 5, describe: "Sources to retrieve" }),
    handler: async (args) => {
      const { io } = ctx;
      if (!(args.temperature >= 0 && args.temperature <= 1)) throw new UserError("--temperature must be from 0 to 1");
      if (!Number.isInteger(args["max-tokens"]) || args["max-tokens"] < 1 || args["max-tokens"] > 4096) {
        throw new UserError("--max-tokens must be an integer from 1 to 4096");
      }
      const dataDir = defaultDataDir(io.env, io.cwd, args["data-dir"]);
      if (args.store === "local" && !dataDirReady(dataDir)) {
        throw new UserError(`no ingested data in ${dataDir}`, {
          notes: ["run `cml-lab ingest` first, or pass --data-dir / --store none"],
        });
      }
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      try {
        const result = await runQuery({
          question: args.question,
          model: args.model,
          store: args.store,
          env: io.env,
          openRetriever: openRetrieverFor(dataDir, io.env),
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
