import { UserError } from "../../shared/errors.js";
import type { ChunkCatalog } from "../rag/catalog.js";
import { type ChunkRecord, embeddingText } from "../rag/chunk-record.js";
import type { Embedder } from "../rag/embedders/embedder.js";
import { hashEmbedderOptions } from "../rag/embedders/hash.js";
import { describeMeta, type StoreMeta, sameMeta, type VectorStore } from "../rag/stores/store.js";
import { CHUNKER_VERSION, type ChunkOptions } from "./chunk.js";
import { createPageSource } from "./page-pool.js";
/** One page to index: where it came from and how to read its HTML (read only when the page changed). */
import type { PageInput } from "./page-task.js";
import { noTimes } from "./page-to-chunks.js";

export type { PageInput };

export type IndexEvent =
  | {
      type: "index-start";
      pages: number;
      store: string;
      /** The index was built with another chunker: every page is chunked again, only changed passages embedded. */
      rechunk?: { from: string; to: string };
    }
  | {
      type: "page";
      docId: string;
      status: "unchanged" | "indexed" | "empty" | "failed";
      chunks: number;
      added: number;
      deleted: number;
      reason?: string;
    }
  | { type: "index-done"; summary: IndexSummary };

export interface IndexSummary {
  pages: number;
  unchanged: number;
  indexed: number;
  empty: string[];
  failed: { docId: string; reason: string }[];
  removedPages: number;
  chunksAdded: number;
  chunksDeleted: number;
  chunksTotal: number;
  /** Calls to embedDocuments and the texts they carried: zero on a no-op re-run. */
  embedCalls: number;
  embeddedTexts: number;
  /** Worker threads that extracted (and hash-embedded) changed pages; 0 when all ran on the main thread. */
  workerThreads: number;
  /**
   * Seconds per phase, summed over threads (so with workers they can add up to more than `seconds`); `store` is
   * the main thread's catalog and store writes.
   */
  phases: { extract: number; chunk: number; embed: number; store: number };
  seconds: number;
}

export interface IndexOptions {
  pages: readonly PageInput[];
  store: VectorStore;
  /** The lexical side and the page hashes; for the local store, the same catalog the store wraps. */
  catalog: ChunkCatalog;
  embedder: Embedder;
  chunk?: ChunkOptions;
  /** Drop the store's content when its metadata does not match this run (otherwise such a run is refused). */
  reindex?: boolean;
  /** Texts per embedDocuments call. */
  batchSize?: number;
  /**
   * Worker threads for extract + chunk (+ the hash embedder) of changed pages; default: the available cores, and
   * none for small inputs. 0 keeps everything on this thread.
   */
  workers?: number;
  onEvent?: (event: IndexEvent) => void;
}

interface PendingPage {
  page: PageInput;
  records: ChunkRecord[];
  toEmbed: ChunkRecord[];
  stale: string[];
  /** Vectors a worker already computed for toEmbed, by id. */
  vectors: Map<string, Float32Array> | undefined;
}

/**
 * Extract → chunk → embed → upsert, idempotently: chunk ids are content hashes, so an unchanged page costs no
 * embedding call and no write, an edited page writes only its new chunks and deletes its stale ones, and a page
 * that is no longer in the input loses its chunks.
 */
export async function indexPages(options: IndexOptions): Promise<IndexSummary> {
  const started = performance.now();
  const { store, catalog, embedder } = options;
  const emit = options.onEvent ?? (() => {});
  const want: StoreMeta = { embedder: embedder.id, dim: embedder.dim, chunker: CHUNKER_VERSION };
  const recorded = await store.readMeta();
  // Only the chunker changed: the vectors still compare, so every page is chunked again in place and only the
  // passages whose text changed are embedded and written (a new version no longer needs --reindex).
  const rechunk =
    recorded !== undefined &&
    recorded.embedder === want.embedder &&
    recorded.dim === want.dim &&
    recorded.chunker !== want.chunker;
  if (recorded && !sameMeta(recorded, want) && !options.reindex && !rechunk) {
    throw new UserError(`the ${store.kind} index at ${store.location} was built with ${describeMeta(recorded)}`, {
      notes: [`this run uses ${describeMeta(want)}`, "re-run with --reindex to rebuild it, or pick the same embedder"],
    });
  }
  const reset = Boolean(options.reindex && recorded && !sameMeta(recorded, want));
  await store.prepare(want, { reset });

  const unique = new Map<string, PageInput>();
  for (const page of options.pages) if (!unique.has(page.docId)) unique.set(page.docId, page);
  // Read what the store holds before a stale catalog is dropped: the local store answers from its catalog.
  const stored = await store.listDocChunks([...unique.keys(), ...catalog.docs.keys()]);
  if (reset || !catalog.meta || !sameMeta(catalog.meta, want)) catalog.reset(want);
  emit({
    type: "index-start",
    pages: unique.size,
    store: store.location,
    ...(rechunk && !reset ? { rechunk: { from: recorded.chunker, to: want.chunker } } : {}),
  });

  const summary: IndexSummary = {
    pages: unique.size,
    unchanged: 0,
    indexed: 0,
    empty: [],
    failed: [],
    removedPages: 0,
    chunksAdded: 0,
    chunksDeleted: 0,
    chunksTotal: 0,
    embedCalls: 0,
    embeddedTexts: 0,
    workerThreads: 0,
    phases: { extract: 0, chunk: 0, embed: 0, store: 0 },
    seconds: 0,
  };
  const batchSize = options.batchSize ?? 64;
  const times = noTimes();
  let storeMs = 0;
  let pending: PendingPage[] = [];
  let pendingTexts = 0;

  const commit = async () => {
    const toEmbed = pending.flatMap((entry) => entry.toEmbed);
    const ready = new Map<string, Float32Array>();
    for (const entry of pending) {
      if (!entry.vectors) continue;
      for (const [id, vector] of entry.vectors) ready.set(id, vector);
      // Workers embed a page's new chunks in one call.
      if (entry.toEmbed.length) summary.embedCalls++;
    }
    for (let at = 0; at < toEmbed.length; at += batchSize) {
      const batch = toEmbed.slice(at, at + batchSize);
      const missing = batch.filter((record) => !ready.has(record.id));
      if (missing.length) {
        const started = performance.now();
        const vectors = await embedder.embedDocuments(missing.map(embeddingText));
        times.embed += performance.now() - started;
        summary.embedCalls++;
        for (const [i, record] of missing.entries()) ready.set(record.id, vectors[i] ?? new Float32Array(want.dim));
      }
      summary.embeddedTexts += batch.length;
      const started = performance.now();
      await store.upsert(
        batch.map((record) => ({ ...record, vector: ready.get(record.id) ?? new Float32Array(want.dim) })),
      );
      storeMs += performance.now() - started;
    }
    const started = performance.now();
    const stale = pending.flatMap((entry) => entry.stale);
    if (stale.length) await store.deleteByIds(stale);
    for (const entry of pending) catalog.setDoc(entry.page.docId, entry.page.sha256, entry.records);
    storeMs += performance.now() - started;
    for (const entry of pending) {
      summary.chunksAdded += entry.toEmbed.length;
      summary.chunksDeleted += entry.stale.length;
      const status = entry.records.length ? "indexed" : "empty";
      if (status === "indexed") summary.indexed++;
      else summary.empty.push(entry.page.docId);
      emit({
        type: "page",
        docId: entry.page.docId,
        status,
        chunks: entry.records.length,
        added: entry.toEmbed.length,
        deleted: entry.stale.length,
      });
    }
    pending = [];
    pendingTexts = 0;
  };

  const isUnchanged = (page: PageInput) => {
    const known = catalog.docs.get(page.docId);
    return known !== undefined && known.pageSha === page.sha256 && sameIds(known.ids, stored.get(page.docId) ?? []);
  };
  const changed = [...unique.values()].filter((page) => !isUnchanged(page));
  const changedPages = new Set(changed);
  const source = createPageSource({
    pages: changed,
    embedderId: embedder.id,
    chunk: options.chunk,
    hashDim: hashEmbedderOptions(embedder)?.dim,
    stored,
    workers: options.workers,
    times,
  });
  summary.workerThreads = source.threads;
  try {
    for (const page of unique.values()) {
      await indexPage(page);
    }
    await commit();
  } finally {
    await source.close();
  }

  async function indexPage(page: PageInput): Promise<void> {
    const storedIds = stored.get(page.docId) ?? [];
    const known = catalog.docs.get(page.docId);
    if (known && !changedPages.has(page)) {
      summary.unchanged++;
      emit({ type: "page", docId: page.docId, status: "unchanged", chunks: known.ids.length, added: 0, deleted: 0 });
      return;
    }
    let records: ChunkRecord[];
    let vectors: Map<string, Float32Array> | undefined;
    try {
      ({ records, vectors } = await source.next(page));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      summary.failed.push({ docId: page.docId, reason });
      emit({ type: "page", docId: page.docId, status: "failed", chunks: 0, added: 0, deleted: 0, reason });
      return;
    }
    const have = new Set(storedIds);
    const next = new Set(records.map((record) => record.id));
    const entry: PendingPage = {
      page,
      records,
      toEmbed: records.filter((record) => !have.has(record.id)),
      stale: storedIds.filter((id) => !next.has(id)),
      vectors,
    };
    pending.push(entry);
    pendingTexts += entry.toEmbed.length;
    if (pendingTexts >= batchSize * 4) await commit();
  }

  const removed = new Set([...stored.keys(), ...catalog.docs.keys()].filter((docId) => !unique.has(docId)));
  const removedIds = [...removed].flatMap((docId) => stored.get(docId) ?? []);
  if (removedIds.length) await store.deleteByIds(removedIds);
  for (const docId of removed) catalog.removeDoc(docId);
  summary.removedPages = removed.size;
  summary.chunksDeleted += removedIds.length;

  const flushStarted = performance.now();
  await store.flush();
  catalog.save();
  // Only a run that wrote something: a no-op populate must not make every reader reopen the store.
  if (summary.chunksAdded + summary.chunksDeleted > 0) await store.markComplete?.();
  storeMs += performance.now() - flushStarted;
  const seconds = (ms: number) => Number((ms / 1000).toFixed(3));
  summary.phases = {
    extract: seconds(times.extract),
    chunk: seconds(times.chunk),
    embed: seconds(times.embed),
    store: seconds(storeMs),
  };
  for (const doc of catalog.docs.values()) summary.chunksTotal += doc.ids.length;
  summary.seconds = (performance.now() - started) / 1000;
  emit({ type: "index-done", summary });
  return summary;
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(b);
  return a.every((id) => set.has(id));
}
