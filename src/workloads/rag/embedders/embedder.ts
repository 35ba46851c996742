/** One interface for every embedding model; instances are created once and reused. */
export interface Embedder {
  /** Stable id recorded in store metadata and chunk ids, e.g. `hash-v1-512`, `bedrock:amazon.titan-embed-text-v2:0:1024`. */
  readonly id: string;
  readonly dim: number;
  /** Longest input in tokens the model accepts; longer text is truncated by the embedder. */
  readonly maxTokens: number;
  embedDocuments(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
  embedQuery(text: string, signal?: AbortSignal): Promise<Float32Array>;
}

export function l2normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] ?? 0) / norm;
  return vector;
}
