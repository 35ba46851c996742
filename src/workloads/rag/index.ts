/** The retrieval library the chat app and model-query use. */
export type { ChunkRecord } from "./chunk-record.js";
export { createEmbedder, type EmbedderSpec } from "./embedders/create.js";
export type { Embedder } from "./embedders/embedder.js";
export { type HybridOptions, HybridRetriever, type RetrievalMode } from "./hybrid.js";
export { type OpenRetrieverOptions, openRetriever } from "./open-retriever.js";
export type { RetrievedSource, RetrieveOptions, Retriever, StoreKind } from "./types.js";
