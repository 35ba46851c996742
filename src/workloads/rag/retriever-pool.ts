import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { UserError } from "../../shared/errors.js";
import { compiledWorkerEntry } from "../../shared/worker-entry.js";
import { openRetriever } from "./open-retriever.js";
import { isRetrieverMessage, type RetrieverMessage, type RetrieverWorkerData, warmUp } from "./retriever-task.js";
import type { RetrievedSource, RetrieveOptions, Retriever, StoreKind } from "./types.js";

/** A retriever that holds threads or timers: close() releases them. */
export interface ClosableRetriever extends Retriever {
  close(): Promise<void>;
}

/** Whether a retriever holds threads or files to release (a remote store's client holds none). */
export function isClosable(retriever: Retriever): retriever is ClosableRetriever {
  return "close" in retriever && typeof retriever.close === "function";
}

export interface RetrieverPoolOptions {
  dataDir: string;
  /** Worker threads; default: the available cores. 0 answers on this thread (still opened and warmed up front). */
  workers?: number;
}

/** Asked once when an index opens: loads the vectors and compiles the scoring loops before a user waits on them. */
export const WARM_QUESTION = "how do I configure and start the server";

/**
 * The local index, opened and warmed on `workers` threads, each with its own copy: a question goes to an idle
 * thread (or waits for one, first come first served), so scoring never blocks the event loop that streams other
 * clients' answers, and two questions score on two cores at once. Resolves when every thread is ready; rejects
 * with the opener's error (e.g. "no index in …") when the index cannot be opened. Without a compiled worker
 * (TS sources run before a build) it falls back to this thread.
 */
export async function openRetrieverPool(options: RetrieverPoolOptions): Promise<ClosableRetriever> {
  const wanted = options.workers ?? availableParallelism();
  const entry = compiledWorkerEntry(import.meta.url, "retriever-worker.js", "workloads/rag");
  if (wanted < 1 || !entry) {
    const retriever = await openRetriever({ dataDir: options.dataDir, store: "local" });
    await warmUp(retriever, WARM_QUESTION);
    return {
      describe: () => retriever.describe(),
      retrieve: (q, o) => retriever.retrieve(q, o),
      close: async () => {},
    };
  }
  const data: RetrieverWorkerData = { dataDir: options.dataDir, warmQuestion: WARM_QUESTION };
  const workers = Array.from({ length: wanted }, () => new Worker(entry, { workerData: data }));
  const opened = await Promise.allSettled(workers.map(ready));
  const failed = opened.find((result) => result.status === "rejected");
  if (failed) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw failed.reason;
  }
  const first = opened[0];
  const described = first?.status === "fulfilled" ? first.value : { chunks: 0, embedder: "none" };
  return new RetrieverPool(workers, described);
}

/** The worker's first message: ready (with what it opened) or the error that stopped it. */
function ready(worker: Worker): Promise<{ chunks: number; embedder: string }> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!isRetrieverMessage(message)) return;
      worker.off("message", onMessage);
      worker.off("exit", onExit);
      if (message.type === "ready") resolve({ chunks: message.chunks, embedder: message.embedder });
      else if (message.type === "failed")
        reject(message.user ? new UserError(message.message, { notes: message.notes }) : new Error(message.message));
      else reject(new Error(`bug: retrieval worker sent ${message.type} before ready`));
    };
    const onExit = (code: number) =>
      reject(new Error(`retrieval worker exited (code ${code}) while opening the index`));
    worker.on("message", onMessage);
    worker.once("exit", onExit);
  });
}

interface Pending {
  id: number;
  question: string;
  k: number;
  signal: AbortSignal | undefined;
  resolve(sources: RetrievedSource[]): void;
  reject(error: Error): void;
}

class RetrieverPool implements ClosableRetriever {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    workers: Worker[],
    private readonly described: { chunks: number; embedder: string },
  ) {
    for (const worker of workers) {
      worker.on("message", (message: unknown) => this.settle(worker, message));
      worker.on("error", () => this.retire(worker));
      worker.on("exit", () => this.retire(worker));
      this.idle.push(worker);
    }
  }

  describe(): { store: StoreKind; embedder: string; chunks: number } {
    return { store: "local", embedder: this.described.embedder, chunks: this.described.chunks };
  }

  retrieve(question: string, options: RetrieveOptions = {}): Promise<RetrievedSource[]> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error("the retriever is closed"));
      if (options.signal?.aborted) return reject(abortError());
      const pending: Pending = {
        id: this.nextId++,
        question,
        k: options.k ?? 5,
        signal: options.signal,
        resolve,
        reject,
      };
      this.dispatch(pending);
    });
  }

  private dispatch(pending: Pending): void {
    const worker = this.idle.pop();
    if (!worker) {
      if (this.busy.size === 0) pending.reject(new Error("every retrieval worker has exited"));
      else this.queue.push(pending);
      return;
    }
    this.busy.set(worker, pending);
    worker.postMessage({ id: pending.id, question: pending.question, k: pending.k });
  }

  private settle(worker: Worker, message: unknown): void {
    const pending = this.busy.get(worker);
    if (!pending || !isRetrieverMessage(message) || !isAnswer(message) || message.id !== pending.id) return;
    this.busy.delete(worker);
    this.idle.push(worker);
    if (message.type === "result") pending.resolve(message.sources);
    else pending.reject(new Error(message.message));
    this.next();
  }

  /** The oldest queued question whose client is still there goes to the worker just freed. */
  private next(): void {
    while (this.queue.length && this.idle.length) {
      const queued = this.queue.shift();
      if (!queued) break;
      if (queued.signal?.aborted) queued.reject(abortError());
      else this.dispatch(queued);
    }
  }

  /** A worker that errored or exited: its question fails (the chat reports it), the others carry on. */
  private retire(worker: Worker): void {
    const pending = this.busy.get(worker);
    this.busy.delete(worker);
    const at = this.idle.indexOf(worker);
    if (at >= 0) this.idle.splice(at, 1);
    if (pending) pending.reject(new Error("the retrieval worker exited"));
    if (this.busy.size === 0 && this.idle.length === 0) {
      for (const queued of this.queue.splice(0)) queued.reject(new Error("every retrieval worker has exited"));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.idle, ...this.busy.keys()];
    this.idle.length = 0;
    for (const pending of [...this.busy.values(), ...this.queue.splice(0)])
      pending.reject(new Error("the retriever is closed"));
    this.busy.clear();
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

function isAnswer(message: RetrieverMessage): message is Extract<RetrieverMessage, { id: number }> {
  return message.type === "result" || message.type === "error";
}

function abortError(): Error {
  return new DOMException("retrieval aborted", "AbortError");
}
