/**
 * The real store opener: rag's openRetriever over the data directory ingest wrote, with the store connection
 * taken from the environment (a CML application's env configures the app). A store that cannot be opened yet
 * (nothing ingested, server down) is reported as unavailable with the reason, and retried on the next question.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { catalogDir, openRetriever } from "../rag/open-retriever.js";
import { type ClosableRetriever, openRetrieverPool } from "../rag/retriever-pool.js";
import { openStore } from "../rag/stores/open-store.js";
import type { Retriever } from "../rag/types.js";
import { localIndexSignature, reloadingRetriever } from "./reloading-retriever.js";
import { chromaUrl, type OpenRetriever, pineconeIndex } from "./stores.js";

/** How the app serves the local index (the one a question costs CPU for): see openRetrieverFor. */
export interface ServeLocalOptions {
  /** Retrieval threads; default: the available cores (CML_LAB_RETRIEVAL_WORKERS); 0: on the event loop. */
  workers?: number;
  /** How often to look for a rebuilt index on disk (default 2 s). */
  reloadIntervalMs?: number;
  /** How often to look for a repopulated Chroma collection between questions (default 10 s). */
  chromaCheckIntervalMs?: number;
  log?: (line: string) => void;
}

/** CML_LAB_RETRIEVAL_WORKERS: a whole number of retrieval threads, or unset for one per core. */
export function retrievalWorkers(env: NodeJS.ProcessEnv): number | undefined {
  const value = env.CML_LAB_RETRIEVAL_WORKERS;
  return value && /^\d+$/.test(value) ? Number(value) : undefined;
}

export function defaultDataDir(env: NodeJS.ProcessEnv, cwd: string, explicit?: string): string {
  return resolve(cwd, explicit ?? env.CML_LAB_DATA ?? "data");
}

/**
 * Whether `cml-lab ingest index --store local` wrote an index here. Other stores keep their lexical side in the
 * same data directory, so the directory existing is not enough: the lab's Chroma-only data dir would otherwise
 * offer "Local index" first and fail on the first question.
 */
export function dataDirReady(dataDir: string): boolean {
  return existsSync(catalogDir(dataDir, "local"));
}

/**
 * With `serve` (the chat app), the local index is opened on a pool of retrieval threads and reopened when it is
 * rebuilt on disk; without it (`cml-lab query`: one question), on this thread, once.
 */
export function openRetrieverFor(dataDir: string, env: NodeJS.ProcessEnv, serve?: ServeLocalOptions): OpenRetriever {
  return async (store) => {
    try {
      switch (store) {
        case "local":
          if (!serve) return await openRetriever({ dataDir, store });
          return await reloadingRetriever(
            () => openRetrieverPool({ dataDir, ...(serve.workers !== undefined ? { workers: serve.workers } : {}) }),
            () => localIndexSignature(dataDir),
            {
              ...(serve.reloadIntervalMs !== undefined ? { intervalMs: serve.reloadIntervalMs } : {}),
              ...(serve.log ? { log: serve.log } : {}),
            },
          );
        case "chroma": {
          const url = chromaUrl(env);
          if (!url) return { unavailable: "set CML_LAB_CHROMA_URL" };
          const collection = env.CML_LAB_CHROMA_COLLECTION;
          const connection = { dataDir, store, chroma: { url, ...(collection ? { collection } : {}) } } as const;
          if (!serve) return await openRetriever(connection);
          // The lab's populate job writes this collection while the app serves it (and often while the app
          // opens it at start): reopened when a populate finishes, checked before every question (one read of the
          // collection's metadata, shared by the questions that arrive together).
          const { store: probe } = await openStore(dataDir, connection);
          const generation = probe.generation?.bind(probe);
          if (!generation) return await openRetriever(connection);
          return await reloadingRetriever(async () => closable(await openRetriever(connection)), generation, {
            intervalMs: serve.chromaCheckIntervalMs ?? 10_000,
            checkBeforeRetrieve: true,
            ...(serve.log ? { log: serve.log } : {}),
          });
        }
        case "pinecone": {
          const apiKey = env.PINECONE_API_KEY;
          const index = pineconeIndex(env);
          if (!apiKey || !index) return { unavailable: "set PINECONE_API_KEY and CML_LAB_PINECONE_INDEX" };
          return await openRetriever({ dataDir, store, pinecone: { apiKey, index } });
        }
      }
    } catch (error) {
      // Messages from openRetriever name what to run (e.g. "no index in …: build one with cml-lab ingest index").
      return { unavailable: `store ${store}: ${error instanceof Error ? error.message : String(error)}` };
    }
  };
}

/** A retriever with nothing of its own to release (a remote store's client holds no threads or files). */
function closable(retriever: Retriever): ClosableRetriever {
  return { describe: () => retriever.describe(), retrieve: (q, o) => retriever.retrieve(q, o), close: async () => {} };
}
