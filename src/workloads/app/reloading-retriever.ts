/**
 * The chat app's stores, kept current without a restart. The local index's files are checked every few seconds,
 * and when they changed (and held still for one more check, so a rebuild in progress is not read half-written)
 * a new retriever is opened and warmed beside the old one, which keeps answering until the swap and is closed
 * once its last question is answered. A shared Chroma collection is checked the same way, and also before every
 * question, by a check that starts after the question arrived: its populate job marks a finished run, so the
 * first question after a populate is answered from the whole collection, not from what the app saw mid-write
 * (a check skipped because one ran a moment ago, or joined while it was already under way, can miss that mark).
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../../shared/errors.js";
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
  /** Check before every question (default: only on the timer). One remote read; concurrent questions share it. */
  checkBeforeRetrieve?: boolean;
  log?: (line: string) => void;
}

/** What a check compares; a `complete` signature (its writer marked the run finished) need not hold still. */
export type Signature = string | { key: string; complete: boolean };

interface Generation {
  retriever: ClosableRetriever;
  inFlight: number;
  retired: boolean;
}

export async function reloadingRetriever(
  open: () => Promise<ClosableRetriever>,
  signature: () => Signature | Promise<Signature>,
  options: ReloadingOptions = {},
): Promise<ClosableRetriever> {
  const log = options.log ?? (() => {});
  const read = async () => {
    const value = await signature();
    return typeof value === "string" ? { key: value, complete: false } : value;
  };
  // Read before opening: a rebuild that lands while this opens shows up as a change at the next check.
  let loaded = (await read()).key;
  let current: Generation = { retriever: await open(), inFlight: 0, retired: false };
  let lastSeen = loaded;
  let checking: Promise<void> | undefined;
  let checkStartedAt = 0;
  let followUp: Promise<void> | undefined;
  let checkFailing = false;
  let closed = false;

  const closeWhenIdle = async (generation: Generation) => {
    if (generation.retired && generation.inFlight === 0) await generation.retriever.close();
  };

  // One check at a time. A question needs a check that started after it arrived: one under way may have read
  // the store before the change the question must see, so such a question waits for it and then one more check,
  // which every question that arrived meanwhile shares.
  const start = (): Promise<void> => {
    checkStartedAt = performance.now();
    const started = checkOnce().finally(() => {
      if (checking === started) checking = undefined;
    });
    checking = started;
    return started;
  };
  const check = (arrivedAt: number): Promise<void> => {
    if (closed) return Promise.resolve();
    if (!checking) return start();
    if (checkStartedAt >= arrivedAt) return checking;
    followUp ??= checking
      .catch(() => {})
      .then(() => {
        followUp = undefined;
        return closed ? undefined : (checking ?? start());
      });
    return followUp;
  };
  const checkOnce = async () => {
    let now: string;
    let complete: boolean;
    try {
      ({ key: now, complete } = await read());
    } catch (error) {
      // The store did not answer (a Chroma app restarting): keep serving what is open, look again later; said
      // once, not at every check until it is back.
      if (!checkFailing)
        log(`${current.retriever.describe().store} store not checked for changes: ${errorMessage(error)}`);
      checkFailing = true;
      return;
    }
    checkFailing = false;
    const settled = complete || now === lastSeen;
    lastSeen = now;
    if (now === loaded || !settled) return;
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
      log(`${retriever.describe().store} index reloaded: ${retriever.describe().chunks} chunks`);
    } catch (error) {
      // Keep serving the index that works; a later rewrite changes the signature again and is tried then.
      log(`${current.retriever.describe().store} index changed but could not be reloaded: ${errorMessage(error)}`);
    } finally {
      loaded = now;
    }
  };
  const timer = setInterval(() => void check(performance.now()), options.intervalMs ?? 2000);
  timer.unref();

  return {
    describe(): { store: StoreKind; embedder: string; chunks: number } {
      return current.retriever.describe();
    },
    async retrieve(question: string, retrieveOptions?: RetrieveOptions): Promise<RetrievedSource[]> {
      // The local index swaps in the background (a question never waits for it); a store checked before
      // questions waits for a check, and the reload it starts, so the answer comes from what was found.
      if (options.checkBeforeRetrieve) await check(performance.now());
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
