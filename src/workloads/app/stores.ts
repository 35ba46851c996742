/**
 * Which vector stores this process can read, and why not. The retriever itself comes from an injected
 * opener (the real one is rag's openRetriever); retrievers are opened once and reused, because opening one
 * loads the lexical index and the embedder (the lab reloaded its embedding model on every question).
 */
import type { Retriever, StoreKind } from "../rag/types.js";

export interface StoreChoice {
  id: StoreKind;
  label: string;
  available: boolean;
  detail: string;
}

export type RetrieverResult = Retriever | { unavailable: string };
export type OpenRetriever = (store: Exclude<StoreKind, "none">) => Promise<RetrieverResult>;

const LABELS: Record<StoreKind, string> = {
  none: "None (model answers directly)",
  local: "Local index (files under the data directory)",
  chroma: "Chroma",
  pinecone: "Pinecone",
};

/** CML_LAB_STORES="none,chroma" limits the choices; reasons name the variable to set, never a value. */
export function storeChoices(env: NodeJS.ProcessEnv, dataDirReady: boolean): StoreChoice[] {
  const allowed = env.CML_LAB_STORES?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const kinds: StoreKind[] = ["local", "chroma", "pinecone", "none"];
  return kinds
    .filter((id) => !allowed || allowed.length === 0 || allowed.includes(id))
    .map((id) => {
      const missing = missingStoreConfig(id, env, dataDirReady);
      return { id, label: LABELS[id], available: !missing, detail: missing ?? configuredDetail(id, env) };
    });
}

function missingStoreConfig(id: StoreKind, env: NodeJS.ProcessEnv, dataDirReady: boolean): string | undefined {
  switch (id) {
    case "none":
      return undefined;
    case "local":
      return dataDirReady ? undefined : "no ingested data in the data directory (run `cml-lab ingest` first)";
    case "chroma":
      return env.CML_LAB_CHROMA_URL
        ? undefined
        : "set CML_LAB_CHROMA_URL (the Chroma server, e.g. http://127.0.0.1:8000)";
    case "pinecone":
      if (!env.PINECONE_API_KEY) return "set PINECONE_API_KEY";
      return env.CML_LAB_PINECONE_INDEX ? undefined : "set CML_LAB_PINECONE_INDEX";
  }
}

function configuredDetail(id: StoreKind, env: NodeJS.ProcessEnv): string {
  switch (id) {
    case "none":
      return "no retrieval; the model answers from what it knows";
    case "local":
      return "lexical + vector index written by ingest";
    case "chroma":
      return `Chroma at ${safeHost(chromaUrl(env))}`;
    case "pinecone":
      return `Pinecone index ${pineconeIndex(env)}`;
  }
}

export const chromaUrl = (env: NodeJS.ProcessEnv) => env.CML_LAB_CHROMA_URL || env.CHROMA_URL;
export const pineconeIndex = (env: NodeJS.ProcessEnv) => env.CML_LAB_PINECONE_INDEX || env.PINECONE_INDEX;

function safeHost(url: string | undefined): string {
  try {
    return url ? new URL(url).host : "";
  } catch {
    return "(invalid URL)";
  }
}

/** Opens each store at most once at a time; a failed open is not cached, so a later request retries. */
export function cachedOpener(open: OpenRetriever): OpenRetriever {
  const cache = new Map<string, Promise<RetrieverResult>>();
  return (store) => {
    const hit = cache.get(store);
    if (hit) return hit;
    const pending = open(store).then(
      (result) => {
        if ("unavailable" in result) cache.delete(store);
        return result;
      },
      (error: unknown) => {
        cache.delete(store);
        throw error;
      },
    );
    cache.set(store, pending);
    return pending;
  };
}
