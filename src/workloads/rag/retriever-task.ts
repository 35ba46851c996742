import type { RetrievedSource, Retriever } from "./types.js";

/** What a retrieval worker opens (workerData): the local index of one data directory. */
export interface RetrieverWorkerData {
  dataDir: string;
  /** A question retrieved after opening (warmUp), so the first real one finds the index loaded and compiled. */
  warmQuestion: string;
}

/**
 * Answers `question` a few times before the retriever serves: after one answer the scoring code is not yet fully
 * compiled. On the 10,053-chunk PostgreSQL index (bench/app/chat-latency.mjs, 2 cores) the first user's chat took
 * 1.49-2.36x (median 1.83x, 9 starts) a warm one's time to the first delta with one round, and 1.33-2.22x
 * (median 1.76x, 12 starts) with eight, which cost about 10 ms at start.
 */
export async function warmUp(retriever: Retriever, question: string): Promise<void> {
  for (let round = 0; round < 8; round++) await retriever.retrieve(question, { k: 5 });
}

/** Main thread → worker: one question. */
export interface RetrieveTask {
  id: number;
  question: string;
  k: number;
}

/** Worker → main thread: opened (or why not), and the answer to each task. */
export type RetrieverMessage =
  | { type: "ready"; chunks: number; embedder: string }
  | { type: "failed"; message: string; notes: string[]; user: boolean }
  | { type: "result"; id: number; sources: RetrievedSource[] }
  | { type: "error"; id: number; message: string };

export function isRetrieveTask(value: unknown): value is RetrieveTask {
  return (
    typeof value === "object" &&
    value !== null &&
    "id" in value &&
    typeof value.id === "number" &&
    "question" in value &&
    typeof value.question === "string" &&
    "k" in value &&
    typeof value.k === "number"
  );
}

export function isRetrieverMessage(value: unknown): value is RetrieverMessage {
  return (
    typeof value === "object" &&
    value !== null &&
    "type" in value &&
    (value.type === "ready" || value.type === "failed" || value.type === "result" || value.type === "error")
  );
}
