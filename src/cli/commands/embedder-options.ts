/**
 * The `--embedder` flags shared by `cml-lab ingest index|run` and `cml-lab eval`, and the spec they make, so an
 * eval measures exactly the embedder an ingest would use.
 */
import { resolve } from "node:path";
import type { Argv } from "yargs";
import { numberOption } from "../../shared/cli-options.js";
import { UserError } from "../../shared/errors.js";
import type { CommandContext } from "../../shared/run-cli.js";
import type { EmbedderSpec } from "../../workloads/rag/embedders/create.js";

export const EMBEDDER_KINDS = ["hash", "bedrock", "openai", "local-onnx"] as const;

export interface EmbedderArgs {
  embedder: (typeof EMBEDDER_KINDS)[number];
  "embedding-dim": number | undefined;
  "openai-base-url": string | undefined;
  "openai-model": string | undefined;
  "onnx-model-dir": string | undefined;
}

export const embedderOptions = <T>(y: Argv<T>) =>
  y
    .option("embedder", {
      choices: EMBEDDER_KINDS,
      default: "hash" as const,
      describe: "hash: offline, no model; bedrock: Titan v2 (AWS_REGION); openai: /v1/embeddings; local-onnx",
    })
    .option(
      "embedding-dim",
      numberOption(
        "embedding-dim",
        { min: 1, max: 65_536, integer: true },
        {
          describe: "Vector size (hash: any; Titan v2: 256, 512, 1024)",
        },
      ),
    )
    .option("openai-base-url", { type: "string", describe: "OpenAI-compatible API (default: OPENAI_BASE_URL)" })
    .option("openai-model", { type: "string", describe: "Embedding model (default: OPENAI_EMBEDDING_MODEL)" })
    .option("onnx-model-dir", {
      type: "string",
      describe: "Local ONNX model directory for --embedder local-onnx (default: CML_LAB_ONNX_MODEL_DIR)",
    });

export function embedderSpec(ctx: CommandContext, args: EmbedderArgs): EmbedderSpec {
  const dim = args["embedding-dim"];
  switch (args.embedder) {
    case "hash":
      return { kind: "hash", dim };
    case "bedrock":
      return { kind: "bedrock", dim, region: ctx.io.env.AWS_REGION ?? ctx.io.env.AWS_DEFAULT_REGION };
    case "openai": {
      const baseUrl = args["openai-base-url"] ?? ctx.io.env.OPENAI_BASE_URL;
      const model = args["openai-model"] ?? ctx.io.env.OPENAI_EMBEDDING_MODEL;
      if (!baseUrl || !model || !dim) {
        throw new UserError("--embedder openai needs --openai-base-url, --openai-model and --embedding-dim", {
          notes: [
            "the key comes from OPENAI_API_KEY; base URL and model may also come from OPENAI_BASE_URL and OPENAI_EMBEDDING_MODEL",
          ],
        });
      }
      return { kind: "openai", baseUrl, model, dim, apiKey: ctx.io.env.OPENAI_API_KEY };
    }
    case "local-onnx": {
      const modelDir = args["onnx-model-dir"] ?? ctx.io.env.CML_LAB_ONNX_MODEL_DIR;
      if (!modelDir) {
        throw new UserError("--embedder local-onnx needs --onnx-model-dir (or CML_LAB_ONNX_MODEL_DIR)", {
          notes: ["a directory with config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx"],
        });
      }
      if (dim !== undefined) throw new UserError("--embedding-dim does not apply to local-onnx (hidden_size sets it)");
      return { kind: "local-onnx", modelDir: resolve(ctx.io.cwd, modelDir) };
    }
  }
}
