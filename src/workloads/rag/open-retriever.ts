import { join } from "node:path";
import { UserError } from "../../shared/errors.js";
import { ChunkCatalog } from "./catalog.js";
import { embedderFromId } from "./embedders/create.js";
import type { Embedder } from "./embedders/embedder.js";
import { type HybridOptions, HybridRetriever } from "./hybrid.js";
import { LocalStore } from "./stores/local.js";
import type { VectorStore } from "./stores/store.js";
import type { Retriever } from "./types.js";

export interface OpenRetrieverOptions {
  dataDir: string;
  store: "local" | "chroma" | "pinecone";
  /** Default: the embedder recorded in the index metadata (only offline embedders can be recreated that way). */
  embedder?: Embedder;
  chroma?: { url: string; collection?: string };
  pinecone?: { apiKey: string; index: string; namespace?: string };
  retrieval?: HybridOptions;
}

/** Where an index's catalog (chunk records, lexical side, page hashes) lives in the data directory. */
export function catalogDir(dataDir: string, key: string): string {
  return join(dataDir, "index", key);
}

export async function openRetriever(options: OpenRetrieverOptions): Promise<Retriever> {
  if (options.store !== "local") {
    throw new UserError(`store ${options.store} is not available in this build yet`);
  }
  const catalog = ChunkCatalog.open(catalogDir(options.dataDir, "local"));
  if (!catalog.meta) {
    throw new UserError(`no index in ${catalog.dir}`, {
      notes: [`build one: cml-lab ingest index --pages <dir> --store local --data-dir ${options.dataDir}`],
    });
  }
  const store: VectorStore = new LocalStore(catalog);
  const embedder = options.embedder ?? embedderFromId(catalog.meta.embedder);
  if (embedder.id !== catalog.meta.embedder) {
    throw new UserError(`the index in ${catalog.dir} was built with ${catalog.meta.embedder}, not ${embedder.id}`);
  }
  return new HybridRetriever(catalog.chunks(), store, embedder, "local", options.retrieval);
}
