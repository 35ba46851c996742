import { UserError } from "../../shared/errors.js";
import type { ChunkRecord } from "./chunk-record.js";
import { embedderFromId } from "./embedders/create.js";
import type { Embedder } from "./embedders/embedder.js";
import { type HybridOptions, HybridRetriever } from "./hybrid.js";
import { ChromaStore } from "./stores/chroma.js";
import { openStore, type StoreConnection } from "./stores/open-store.js";
import type { Retriever } from "./types.js";

export interface OpenRetrieverOptions extends StoreConnection {
  dataDir: string;
  /** Default: the embedder recorded in the index metadata (only offline embedders can be recreated that way). */
  embedder?: Embedder;
  retrieval?: HybridOptions;
}

export { catalogDirFor as catalogDir } from "./stores/open-store.js";

/**
 * The retriever the chat app and model-query use. The lexical side comes from the chunk catalog the indexer
 * keeps in the data directory; when a Chroma collection is read from a data directory that has none (another
 * machine ran the populate job), it is rebuilt from the collection's documents at start-up.
 */
export async function openRetriever(options: OpenRetrieverOptions): Promise<Retriever> {
  const { store, catalog } = await openStore(options.dataDir, options);
  const meta = (await store.readMeta()) ?? catalog.meta;
  if (!meta) {
    throw new UserError(`no index in ${store.location}`, {
      notes: [`build one: cml-lab ingest index --pages <dir> --store ${options.store} --data-dir ${options.dataDir}`],
    });
  }
  const embedder = options.embedder ?? embedderFromId(meta.embedder);
  if (embedder.id !== meta.embedder || embedder.dim !== meta.dim) {
    throw new UserError(`the index in ${store.location} was built with ${meta.embedder}, not ${embedder.id}`);
  }
  // Before the first question: a store of another shape (a Pinecone index recreated with another dimension)
  // would otherwise fail every query with the service's own error.
  await store.assertFits?.(embedder);
  let records: ReadonlyMap<string, ChunkRecord> = catalog.chunks();
  if ((!catalog.meta || records.size === 0) && store instanceof ChromaStore) {
    records = new Map((await store.records()).map((record) => [record.id, record]));
  }
  return new HybridRetriever(records, store, embedder, options.store, options.retrieval);
}
