import pLimit from "p-limit";
import { discardBody } from "../../../shared/discard-body.js";
import { shapeOf } from "../../../shared/json-shape.js";
import { type RetryPolicy, retry, retryAfterMs } from "../../../shared/retry.js";
import { type Embedder, l2normalize } from "./embedder.js";

export interface OpenAiEmbedderOptions {
  /** Base URL of an OpenAI-compatible API, with or without the trailing `/v1` (Cloudera AI Inference, vLLM, …). */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Vector size the model returns (sent as `dimensions` only when `sendDimensions`). */
  dim: number;
  sendDimensions?: boolean;
  maxTokens?: number;
  batchSize?: number;
  concurrency?: number;
  retries?: number;
  fetch?: typeof fetch;
}

/** Throttling and server errors are retried; a wrong request or key is not. */
const EMBED_RETRY: RetryPolicy = { retries: 3, minDelayMs: 500, maxDelayMs: 8_000, maxElapsedMs: 120_000 };

/** Any OpenAI-compatible `/v1/embeddings` endpoint, batched with bounded concurrency and retried on 429/5xx. */
export function createOpenAiEmbedder(options: OpenAiEmbedderOptions): Embedder {
  const base = options.baseUrl.replace(/\/+$/, "");
  const url = `${base.endsWith("/v1") ? base : `${base}/v1`}/embeddings`;
  const doFetch = options.fetch ?? fetch;
  const maxTokens = options.maxTokens ?? 8192;
  const limit = pLimit(options.concurrency ?? 2);
  const batchSize = options.batchSize ?? 64;

  const call = async (input: string[], signal?: AbortSignal): Promise<Float32Array[]> => {
    const response = await retry(
      () =>
        doFetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
          },
          body: JSON.stringify({
            model: options.model,
            input: input.map((text) => text.slice(0, maxTokens * 4)),
            encoding_format: "float",
            ...(options.sendDimensions ? { dimensions: options.dim } : {}),
          }),
          signal: signal ?? AbortSignal.timeout(60_000),
        }),
      {
        policy: { ...EMBED_RETRY, retries: options.retries ?? EMBED_RETRY.retries },
        ...(signal ? { signal } : {}),
        classify: (outcome) =>
          outcome.ok && (outcome.value.status === 429 || outcome.value.status >= 500)
            ? { delayMs: retryAfterMs(outcome.value.headers.get("retry-after")) }
            : false,
        onRetry: (outcome) => {
          if (outcome.ok) discardBody(outcome.value);
        },
      },
    );
    // The message names the endpoint and status, never the request headers (the API key).
    if (!response.ok) throw new Error(`POST ${url} → ${response.status}: ${(await response.text()).slice(0, 300)}`);
    return parseEmbeddings(await response.json(), input.length, options.dim, url);
  };

  const embedDocuments = async (texts: readonly string[], signal?: AbortSignal) => {
    const batches: string[][] = [];
    for (let at = 0; at < texts.length; at += batchSize) batches.push(texts.slice(at, at + batchSize));
    const results = await Promise.all(batches.map((batch) => limit(() => call(batch, signal))));
    return results.flat();
  };
  return {
    id: `openai:${options.model}:${options.dim}`,
    dim: options.dim,
    maxTokens,
    embedDocuments,
    embedQuery: async (text, signal) => (await call([text], signal))[0] ?? new Float32Array(options.dim),
  };
}

/** `/v1/embeddings` answers `{data: [{embedding, index}]}`; an item without a vector is skipped (then reported missing). */
const hasData = shapeOf<{ data: unknown[] }>({
  type: "object",
  required: ["data"],
  properties: { data: { type: "array" } },
});
const isEmbeddingItem = shapeOf<{ embedding: unknown[]; index?: unknown }>({
  type: "object",
  required: ["embedding"],
  properties: { embedding: { type: "array" } },
});

function parseEmbeddings(body: unknown, count: number, dim: number, url: string): Float32Array[] {
  const data = hasData(body) ? body.data : [];
  const out: Float32Array[] = new Array(count);
  for (const [position, item] of data.entries()) {
    if (!isEmbeddingItem(item)) continue;
    const index = typeof item.index === "number" ? item.index : position;
    const values: unknown[] = item.embedding;
    if (values.length !== dim || !values.every((v) => typeof v === "number")) {
      throw new Error(`${url} returned a vector of ${values.length} values; the index expects ${dim}`);
    }
    out[index] = l2normalize(Float32Array.from(values, Number));
  }
  for (let i = 0; i < count; i++) if (!out[i]) throw new Error(`${url} returned no embedding for input ${i}`);
  return out;
}
