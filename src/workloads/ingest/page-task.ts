import type { ChunkRecord } from "../rag/chunk-record.js";
import type { ChunkOptions } from "./chunk.js";
import type { PhaseTimes } from "./page-to-chunks.js";

/** A page to index: what its chunk ids depend on, and its HTML on demand. */
export interface PageInput {
  docId: string;
  url: string;
  /** sha256 of the HTML bytes: an unchanged hash means the page is skipped without being read. */
  sha256: string;
  read(): Promise<string>;
}

/** One page for a worker thread: its HTML and what the chunk ids and vectors depend on. */
export interface PageTask {
  id: number;
  html: string;
  page: { docId: string; url: string };
  embedderId: string;
  chunk: ChunkOptions | undefined;
  /** Set when the embedder is the hash embedder: the worker embeds the chunks not in storedIds. */
  hashDim: number | undefined;
  storedIds: string[];
}

/** A worker's answer: the page's records (and vectors of the new ones, in order), or why it failed. */
export interface PageResult {
  id: number;
  records?: ChunkRecord[];
  vectors?: Float32Array[];
  error?: string;
  times?: PhaseTimes;
}

export function isPageTask(value: unknown): value is PageTask {
  return (
    typeof value === "object" &&
    value !== null &&
    "id" in value &&
    typeof value.id === "number" &&
    "html" in value &&
    typeof value.html === "string" &&
    "page" in value &&
    "embedderId" in value &&
    typeof value.embedderId === "string" &&
    "storedIds" in value &&
    Array.isArray(value.storedIds)
  );
}

export function isPageResult(value: unknown): value is PageResult {
  return typeof value === "object" && value !== null && "id" in value && typeof value.id === "number";
}
