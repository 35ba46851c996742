/**
 * The retrieval contract shared by ingest (which writes), the chat app and model-query (which read).
 * Small, named domain types; the implementations live beside this file.
 */

/** One retrieved passage, numbered for citation as [n] in answers. */
export interface RetrievedSource {
  /** 1-based citation number, in rank order. */
  n: number;
  /** Stable document id (canonical URL, or path relative to the corpus root). */
  docId: string;
  /** Page title. */
  title: string;
  /** `page title › section › subsection`: where in the page the passage sits. */
  section: string;
  /** Link to the passage: URL with `#anchor` when the section has one. */
  url: string;
  /** The passage text (Markdown). */
  text: string;
  /** Fused relevance score; higher is better. Only comparable within one result list. */
  score: number;
}

export type StoreKind = "none" | "chroma" | "pinecone" | "local";

export interface RetrieveOptions {
  /** How many sources to return at most (after per-page capping). */
  k?: number;
  signal?: AbortSignal;
}

export interface Retriever {
  /** What this retriever reads from, for /api/config and logs. */
  describe(): { store: StoreKind; embedder: string; chunks: number };
  /** Ranked, numbered sources; empty when nothing passes the relevance floor. */
  retrieve(question: string, options?: RetrieveOptions): Promise<RetrievedSource[]>;
}
