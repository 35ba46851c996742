import { parentPort } from "node:worker_threads";
import { embeddingText } from "../rag/chunk-record.js";
import { createHashEmbedder } from "../rag/embedders/hash.js";
import { isPageTask, type PageResult } from "./page-task.js";
import { noTimes, pageToChunks } from "./page-to-chunks.js";

/*
 * Worker thread of the indexer's pool (page-pool.ts): HTML → chunk records, and with the hash embedder their
 * vectors too. Stateless apart from the embedder, so a task can run on any worker or, as a fallback, on the
 * main thread with the same result.
 */

const embedders = new Map<number, ReturnType<typeof createHashEmbedder>>();

parentPort?.on("message", async (message: unknown) => {
  if (!isPageTask(message)) return;
  let result: PageResult;
  const transfer: ArrayBuffer[] = [];
  const times = noTimes();
  try {
    const { records } = pageToChunks(message.html, message.page, message.embedderId, message.chunk, times);
    result = { id: message.id, records, times };
    if (message.hashDim !== undefined) {
      let embedder = embedders.get(message.hashDim);
      if (!embedder) {
        embedder = createHashEmbedder({ dim: message.hashDim });
        embedders.set(message.hashDim, embedder);
      }
      const have = new Set(message.storedIds);
      const toEmbed = records.filter((record) => !have.has(record.id));
      const started = performance.now();
      const vectors = await embedder.embedDocuments(toEmbed.map(embeddingText));
      times.embed += performance.now() - started;
      for (const vector of vectors) if (vector.buffer instanceof ArrayBuffer) transfer.push(vector.buffer);
      result.vectors = vectors;
    }
  } catch (error) {
    result = { id: message.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(result, transfer);
});
