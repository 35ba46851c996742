import { UserError } from "../../../shared/errors.js";
import { type BedrockEmbedderOptions, createBedrockEmbedder } from "./bedrock.js";
import type { Embedder } from "./embedder.js";
import { createHashEmbedder } from "./hash.js";
import { createLocalOnnxEmbedder, type LocalOnnxEmbedderOptions } from "./local-onnx.js";
import { createOpenAiEmbedder, type OpenAiEmbedderOptions } from "./openai.js";

export type EmbedderSpec =
  | { kind: "hash"; dim?: number }
  | ({ kind: "bedrock" } & BedrockEmbedderOptions)
  | ({ kind: "openai" } & OpenAiEmbedderOptions)
  | ({ kind: "local-onnx" } & LocalOnnxEmbedderOptions);

export function createEmbedder(spec: EmbedderSpec): Embedder {
  switch (spec.kind) {
    case "hash":
      return createHashEmbedder({ dim: spec.dim });
    case "bedrock":
      return createBedrockEmbedder(spec);
    case "openai":
      return createOpenAiEmbedder(spec);
    case "local-onnx":
      return createLocalOnnxEmbedder(spec);
  }
}

/**
 * The embedder an index was built with, from the id recorded in its metadata. Hash and Bedrock rebuild from the
 * id alone; a local-onnx index needs its model directory from `CML_LAB_ONNX_MODEL_DIR` (the app's and the query
 * job's environment), and the model found there must be the one the id names.
 */
export function embedderFromId(id: string, env: NodeJS.ProcessEnv = process.env): Embedder {
  const hash = /^hash-v1-(\d+)$/.exec(id);
  if (hash) return createHashEmbedder({ dim: Number(hash[1]) });
  const bedrock = /^bedrock:amazon\.titan-embed-text-v2:0:(\d+)$/.exec(id);
  if (bedrock) return createBedrockEmbedder({ dim: Number(bedrock[1]) });
  const modelDir = env.CML_LAB_ONNX_MODEL_DIR;
  if (id.startsWith("local-onnx:") && modelDir) {
    const embedder = createLocalOnnxEmbedder({ modelDir });
    if (embedder.id !== id) {
      throw new UserError(`the index was built with ${id}, but CML_LAB_ONNX_MODEL_DIR holds ${embedder.id}`, {
        notes: ["point CML_LAB_ONNX_MODEL_DIR at the model the index was built with, or re-run ingest with --reindex"],
      });
    }
    return embedder;
  }
  throw new UserError(`the index was built with embedder ${id}, which cannot be recreated from its id alone`, {
    notes: [
      id.startsWith("local-onnx:")
        ? "set CML_LAB_ONNX_MODEL_DIR to the model directory the index was built with"
        : "pass the embedder explicitly (openRetriever({ embedder }) or --embedder with its options)",
    ],
  });
}
