import { parentPort, workerData } from "node:worker_threads";
import { UserError } from "../../shared/errors.js";
import { openRetriever } from "./open-retriever.js";
import { isRetrieveTask, type RetrieverMessage, type RetrieverWorkerData, warmUp } from "./retriever-task.js";

/*
 * Worker thread of the retriever pool (retriever-pool.ts): opens the local index of a data directory once,
 * warms it (warmUp), then answers questions one at a time. Holds its own copy of the index, so a
 * question costs no locking and no copying of vectors between threads; only the question and the (few) sources
 * cross.
 */

const data = workerData as RetrieverWorkerData;
const post = (message: RetrieverMessage) => parentPort?.postMessage(message);

try {
  const retriever = await openRetriever({ dataDir: data.dataDir, store: "local" });
  await warmUp(retriever, data.warmQuestion);
  parentPort?.on("message", async (message: unknown) => {
    if (!isRetrieveTask(message)) return;
    try {
      post({ type: "result", id: message.id, sources: await retriever.retrieve(message.question, { k: message.k }) });
    } catch (error) {
      post({ type: "error", id: message.id, message: error instanceof Error ? error.message : String(error) });
    }
  });
  const { chunks, embedder } = retriever.describe();
  post({ type: "ready", chunks, embedder });
} catch (error) {
  post({
    type: "failed",
    message: error instanceof Error ? error.message : String(error),
    notes: error instanceof UserError ? [...error.notes] : [],
    user: error instanceof UserError,
  });
}
