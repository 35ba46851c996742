/**
 * The real store opener: rag's openRetriever over the data directory ingest wrote, with the store connection
 * taken from the environment (a CML application's env configures the app). A store that cannot be opened yet
 * (nothing ingested, server down) is reported as unavailable with the reason, and retried on the next question.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { catalogDir, openRetriever } from "../rag/open-retriever.js";
import { chromaUrl, type OpenRetriever, pineconeIndex } from "./stores.js";

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

export function openRetrieverFor(dataDir: string, env: NodeJS.ProcessEnv): OpenRetriever {
  return async (store) => {
    try {
      switch (store) {
        case "local":
          return await openRetriever({ dataDir, store });
        case "chroma": {
          const url = chromaUrl(env);
          if (!url) return { unavailable: "set CML_LAB_CHROMA_URL" };
          const collection = env.CML_LAB_CHROMA_COLLECTION;
          return await openRetriever({ dataDir, store, chroma: { url, ...(collection ? { collection } : {}) } });
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
