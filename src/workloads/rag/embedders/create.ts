import { UserError } from "../../../shared/errors.js";
import type { Embedder } from "./embedder.js";
import { createHashEmbedder } from "./hash.js";

export type EmbedderSpec = { kind: "hash"; dim?: number };

export function createEmbedder(spec: EmbedderSpec): Embedder {
  switch (spec.kind) {
    case "hash":
      return createHashEmbedder({ dim: spec.dim });
  }
}

/** The embedder an index was built with, from the id recorded in its metadata (only offline ones rebuild). */
export function embedderFromId(id: string): Embedder {
  const hash = /^hash-v1-(\d+)$/.exec(id);
  if (hash) return createHashEmbedder({ dim: Number(hash[1]) });
  throw new UserError(`the index was built with embedder ${id}, which cannot be recreated from its id alone`, {
    notes: ["pass the embedder explicitly (openRetriever({ embedder }) or --embedder with its options)"],
  });
}
