import { UserError } from "../../../shared/errors.js";
import { type BedrockEmbedderOptions, createBedrockEmbedder } from "./bedrock.js";
import type { Embedder } from "./embedder.js";
import { createHashEmbedder } from "./hash.js";
import { createOpenAiEmbedder, type OpenAiEmbedderOptions } from "./openai.js";

export type EmbedderSpec =
  | { kind: "hash"; dim?: number }
  | ({ kind: "bedrock" } & BedrockEmbedderOptions)
  | ({ kind: "openai" } & OpenAiEmbedderOptions);

export function createEmbedder(spec: EmbedderSpec): Embedder {
  switch (spec.kind) {
    case "hash":
      return createHashEmbedder({ dim: spec.dim });
    case "bedrock":
      return createBedrockEmbedder(spec);
    case "openai":
      return createOpenAiEmbedder(spec);
  }
}

/** The embedder an index was built with, from the id recorded in its metadata (hash and Bedrock rebuild alone). */
export function embedderFromId(id: string): Embedder {
  const hash = /^hash-v1-(\d+)$/.exec(id);
  if (hash) return createHashEmbedder({ dim: Number(hash[1]) });
  const bedrock = /^bedrock:amazon\.titan-embed-text-v2:0:(\d+)$/.exec(id);
  if (bedrock) return createBedrockEmbedder({ dim: Number(bedrock[1]) });
  throw new UserError(`the index was built with embedder ${id}, which cannot be recreated from its id alone`, {
    notes: ["pass the embedder explicitly (openRetriever({ embedder }) or --embedder with its options)"],
  });
}
