import type { ChunkRecord } from "../chunk-record.js";
import type { StoreKind } from "../types.js";

/** Recorded with every collection; a store written by one embedder or chunker is never queried with another. */
export interface StoreMeta {
  embedder: string;
  dim: number;
  chunker: string;
}

export interface VectorRecord extends ChunkRecord {
  vector: Float32Array;
}

/** Cosine similarity, higher is closer. */
export interface DenseHit {
  id: string;
  score: number;
}

/** One interface over Chroma, Pinecone and the on-disk local store. */
export interface VectorStore {
  readonly kind: Exclude<StoreKind, "none">;
  /** Where it lives, for messages: a path or URL and collection. */
  readonly location: string;
  /** The metadata recorded when the collection was created; undefined when there is none yet. */
  readMeta(): Promise<StoreMeta | undefined>;
  /** Creates the collection with this metadata; `reset` drops what is there first. */
  prepare(meta: StoreMeta, options: { reset: boolean }): Promise<void>;
  upsert(records: readonly VectorRecord[]): Promise<void>;
  deleteByIds(ids: readonly string[]): Promise<void>;
  /**
   * docId → ids of the chunks stored for it. `knownDocIds` (the pages of this run and of the catalog) lets
   * stores that key records by a hash of the page name report them under their names.
   */
  listDocChunks(knownDocIds?: Iterable<string>): Promise<Map<string, string[]>>;
  query(vector: Float32Array, k: number): Promise<DenseHit[]>;
  /**
   * Throws a UserError when the store cannot hold or answer this embedder's vectors (a Pinecone index has a
   * fixed dimension and metric). Stores without such a constraint leave it out.
   */
  assertFits?(embedder: { id: string; dim: number }): Promise<void>;
  count(): Promise<number>;
  /** Persists buffered writes (the local store writes once per run). */
  flush(): Promise<void>;
  /**
   * Marks a run that changed the store as finished, after its catalog is saved. A shared store (Chroma) is read
   * by a chat app that may have opened it while a populate job was writing; the mark is what tells that app the
   * data is whole and worth reopening. Stores whose readers see every write as it lands leave it out.
   */
  markComplete?(): Promise<void>;
  /**
   * What a reader compares to know the store was rewritten since it opened it: changes when the collection is
   * recreated or a run is marked complete. `complete` says the last writer finished (see markComplete).
   */
  generation?(): Promise<{ key: string; complete: boolean }>;
}

export function sameMeta(a: StoreMeta, b: StoreMeta): boolean {
  return a.embedder === b.embedder && a.dim === b.dim && a.chunker === b.chunker;
}

export function describeMeta(meta: StoreMeta): string {
  return `embedder ${meta.embedder} (dim ${meta.dim}), chunker ${meta.chunker}`;
}
