import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { compiledWorkerEntry } from "../../shared/worker-entry.js";
import type { ChunkRecord } from "../rag/chunk-record.js";
import type { ChunkOptions } from "./chunk.js";
import { isPageResult, type PageInput, type PageResult, type PageTask } from "./page-task.js";
import { type PhaseTimes, pageToChunks } from "./page-to-chunks.js";

/** A changed page, processed: its records and, when a worker embedded them, the vectors of the new ones by id. */
export interface PageWork {
  records: ChunkRecord[];
  vectors?: Map<string, Float32Array>;
}

export interface PageSource {
  /** The work for `page` (one of the pages the source was made for, asked in the same order). */
  next(page: PageInput): Promise<PageWork>;
  close(): Promise<void>;
  /** Worker threads in use (0: everything runs on this thread). */
  readonly threads: number;
}

export interface PageSourceOptions {
  /** The pages that will be asked for, in order: the source reads and converts ahead of the consumer. */
  pages: readonly PageInput[];
  embedderId: string;
  chunk: ChunkOptions | undefined;
  /** Dim of the hash embedder when the workers should embed too. */
  hashDim: number | undefined;
  /** Chunk ids already stored per page: workers embed only the others. */
  stored: ReadonlyMap<string, readonly string[]>;
  /** Worker threads; default: the available cores. 0 runs on this thread. */
  workers?: number;
  /** Accumulates the time of each phase, on whichever thread it ran. */
  times: PhaseTimes;
}

/** Below this many changed pages, starting threads costs more than it saves. */
export const MIN_PAGES_FOR_WORKERS = 24;

/**
 * Extract + chunk (+ hash-embed) of changed pages on a small pool of worker threads, read ahead of the indexer
 * and handed back in the order asked, so the indexer's writes (catalog, store) stay on the main thread and in
 * input order. Falls back to this thread for small inputs, when the compiled worker is missing (TS sources run
 * without a build) and for the pages of a worker that died.
 */
export function createPageSource(options: PageSourceOptions): PageSource {
  const wanted = options.workers ?? availableParallelism();
  const entry = compiledWorkerEntry(import.meta.url, "page-worker.js", "workloads/ingest");
  const count = Math.min(wanted, Math.ceil(options.pages.length / 8));
  if (!entry || wanted < 1 || options.pages.length < MIN_PAGES_FOR_WORKERS) return inlineSource(options);
  return new PoolSource(options, entry, count);
}

function inlineSource(options: PageSourceOptions): PageSource {
  return {
    threads: 0,
    next: async (page) => ({
      records: pageToChunks(await page.read(), page, options.embedderId, options.chunk, options.times).records,
    }),
    close: async () => {},
  };
}

interface Pending {
  task: PageTask;
  page: PageInput;
  resolve(work: PageWork): void;
  reject(error: Error): void;
}

class PoolSource implements PageSource {
  readonly threads: number;
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private readonly started = new Map<string, Promise<PageWork>>();
  private nextIndex = 0;
  private nextId = 0;
  private readonly window: number;

  constructor(
    private readonly options: PageSourceOptions,
    entry: URL,
    count: number,
  ) {
    this.threads = count;
    // Enough pages in flight to keep every worker busy while the main thread writes.
    this.window = count * 4;
    for (let i = 0; i < count; i++) this.idle.push(this.spawn(entry));
  }

  private spawn(entry: URL): Worker {
    const worker = new Worker(entry);
    worker.on("message", (message: unknown) => this.settle(worker, message));
    worker.on("error", () => this.retire(worker));
    worker.on("exit", () => this.retire(worker));
    return worker;
  }

  async next(page: PageInput): Promise<PageWork> {
    this.fill();
    const work = this.started.get(page.docId) ?? this.start(page);
    this.started.delete(page.docId);
    this.fill();
    return work;
  }

  /** Starts the pages ahead of the consumer, in order, up to the window. */
  private fill(): void {
    const pages = this.options.pages;
    while (this.nextIndex < pages.length && this.started.size < this.window) {
      const page = pages[this.nextIndex++];
      if (page && !this.started.has(page.docId)) this.started.set(page.docId, this.start(page));
    }
  }

  private start(page: PageInput): Promise<PageWork> {
    const work = new Promise<PageWork>((resolve, reject) => {
      page.read().then((html) => {
        const task: PageTask = {
          id: this.nextId++,
          html,
          page: { docId: page.docId, url: page.url },
          embedderId: this.options.embedderId,
          chunk: this.options.chunk,
          hashDim: this.options.hashDim,
          storedIds: [...(this.options.stored.get(page.docId) ?? [])],
        };
        this.dispatch({ task, page, resolve, reject });
      }, reject);
    });
    // A page read ahead may fail before the indexer asks for it; the rejection is delivered when it does.
    work.catch(() => {});
    return work;
  }

  private dispatch(pending: Pending): void {
    const worker = this.idle.pop();
    if (worker) {
      this.busy.set(worker, pending);
      worker.postMessage(pending.task);
    } else if (this.busy.size === 0) {
      // Every worker is gone: finish on this thread.
      runInline(pending, this.options);
    } else {
      this.queue.push(pending);
    }
  }

  private settle(worker: Worker, message: unknown): void {
    const pending = this.busy.get(worker);
    if (!pending || !isPageResult(message) || message.id !== pending.task.id) return;
    this.busy.delete(worker);
    this.idle.push(worker);
    if (message.times) {
      this.options.times.extract += message.times.extract;
      this.options.times.chunk += message.times.chunk;
      this.options.times.embed += message.times.embed;
    }
    deliver(pending, message);
    const queued = this.queue.shift();
    if (queued) this.dispatch(queued);
  }

  /** A worker that errored or exited: its page runs on this thread, and so does the queue once none is left. */
  private retire(worker: Worker): void {
    const pending = this.busy.get(worker);
    this.busy.delete(worker);
    const at = this.idle.indexOf(worker);
    if (at >= 0) this.idle.splice(at, 1);
    if (pending) runInline(pending, this.options);
    if (this.busy.size === 0 && this.idle.length === 0) {
      for (const queued of this.queue.splice(0)) runInline(queued, this.options);
    }
  }

  async close(): Promise<void> {
    const workers = [...this.idle, ...this.busy.keys()];
    this.idle.length = 0;
    this.busy.clear();
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

function deliver(pending: Pending, result: PageResult): void {
  if (result.error !== undefined || !result.records) {
    pending.reject(new Error(result.error ?? "the worker returned no records"));
    return;
  }
  const work: PageWork = { records: result.records };
  if (result.vectors) {
    const have = new Set(pending.task.storedIds);
    const fresh = result.records.filter((record) => !have.has(record.id));
    work.vectors = new Map(fresh.map((record, i) => [record.id, result.vectors?.[i] ?? new Float32Array()]));
  }
  pending.resolve(work);
}

function runInline(pending: Pending, options: PageSourceOptions): void {
  try {
    const { records } = pageToChunks(pending.task.html, pending.page, options.embedderId, options.chunk, options.times);
    pending.resolve({ records });
  } catch (error) {
    pending.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
