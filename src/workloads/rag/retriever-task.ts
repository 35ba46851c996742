import type { RetrievedSource } from "./types.js";

/** What a retrieval worker opens (workerData): the local index of one data directory. */
export interface RetrieverWorkerData {
  dataDir: string;
  /** A question retrieved once after opening, so the first real one finds the index loaded and compiled. */
  warmQuestion: string;
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
