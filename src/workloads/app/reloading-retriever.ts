/**
 * The chat app's local index, kept current without a restart: the files the indexer writes are checked every
 * few seconds, and when they changed (and held still for one more check, so a rebuild in progress is not read
 * half-written) a new retriever is opened and warmed beside the old one, which keeps answering until the swap
 * and is closed once its last question is answered.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { catalogDir } from "../rag/open-retriever.js";
import type { ClosableRetriever } from "../rag/retriever-pool.js";
import type { RetrievedSource, RetrieveOptions, StoreKind } from "../rag/types.js";

/** The files of a local index (catalog + vectors), in the order the indexer writes them. */
const INDEX_FILES = ["chunks.jsonl", "docs.json", "meta.json", "vectors.bin"];

/** Size and modification time of each index file: changes whenever the indexer rewrites one (atomic renames). */
export function localIndexSignature(dataDir: string): string {
  const dir = catalogDir(dataDir, "local");
  return INDEX_FILES.map((name) => {
    try {
      const stat = statSync(join(dir, name));
      return `${name}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return `${name}:-`;
    }
  }).join(" ");
}

export interface ReloadingOptions {
  /** How often to look at the files (default 2 s). */
  intervalMs?: number;
  log?: (line: string) => void;
}

interface Generation {
  retriever: ClosableRetriever;
  inFlight: number;
  retired: boolean;
}

export async function reloadingRetriever(
  open: () => Promise<ClosableRetriever>,
  signature: () => string,
  options: ReloadingOptions = {},
): Promise<ClosableRetriever> {
  const log = options.log ?? (() => {});
  // Read before opening: a rebuild that lands while this opens shows up as a change at the next check.
  let loaded = signature();
  let current: Generation = { retriever: await open(), inFlight: 0, retired: false };
  let lastSeen = loaded;
  let reloading = false;
  let closed = false;

  const closeWhenIdle = async (generation: Generation) => {
    if (generation.retired && generation.inFlight === 0) await generation.retriever.close();
  };

  const check = async () => {
    if (reloading || closed) return;
    const now = signature();
    const settled = now === lastSeen;
    lastSeen = now;
    if (now === loaded || !settled) return;
    reloading = true;
    try {
      const retriever = await open();
      if (closed) {
        await retriever.close();
        return;
      }
      const previous = current;
      current = { retriever, inFlight: 0, retired: false };
      previous.retired = true;
      void closeWhenIdle(previous);
      log(`local index reloaded: ${retriever.describe().chunks} chunks`);
    } catch (error) {
      // Keep serving the index that works; a later rewrite changes the signature again and is tried then.
      log(`local index changed but could not be reloaded: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      loaded = now;
      reloading = false;
    }
  };
  const timer = setInterval(() => void check(), options.intervalMs ?? 2000);
  timer.unref();

  return {
    describe(): { store: StoreKind; embedder: string; chunks: number } {
      return current.retriever.describe();
    },
    async retrieve(question: string, retrieveOptions?: RetrieveOptions): Promise<RetrievedSource[]> {
      const generation = current;
      generation.inFlight++;
      try {
        return await generation.retriever.retrieve(question, retrieveOptions);
      } finally {
        generation.inFlight--;
        void closeWhenIdle(generation);
      }
    },
    async close(): Promise<void> {
      closed = true;
      clearInterval(timer);
      current.retired = true;
      await closeWhenIdle(current);
    },
  };
}
