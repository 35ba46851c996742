/**
 * Opens and warms the chat app's default store before /healthz says ready. A store that is not up yet (the lab's
 * vectordb application starts beside the app, and after `npm stop`/`npm start` it often answers later) is tried
 * again in the background, so the first question does not pay for opening it; readiness does not wait for it.
 */
import { errorForLog } from "../../shared/errors.js";
import { type RetryPolicy, retry } from "../../shared/retry.js";
import { redact } from "../../shared/secrets.js";
import { createOfflineModel } from "../llm/offline.js";
import { answer } from "../llm/pipeline.js";
import { isClosable, WARM_QUESTION } from "../rag/retriever-pool.js";
import { storeAdvice } from "../rag/stores/local-scale.js";
import type { StoreKind } from "../rag/types.js";
import { pipeEvents } from "./sse-writer.js";
import type { OpenRetriever } from "./stores.js";

/** A store not up at start: tried again for up to two minutes, backing off to 8 s between tries. */
const WARM_RETRY: RetryPolicy = { retries: 12, minDelayMs: 500, maxDelayMs: 8_000, maxElapsedMs: 120_000 };

export interface WarmingStore {
  /** Settles when the first try has finished, whether or not the store could be opened. */
  ready: Promise<void>;
  /** The store being opened before the app is ready, while it is. */
  warming(): string | undefined;
  /** Ends the background retry; a store that opens after it is closed at once. */
  stop(): void;
}

export interface WarmDeps {
  openRetriever: OpenRetriever;
  log: (line: string) => void;
  /** Values that must never reach the log. */
  secrets: readonly string[];
}

export function warmStore(store: string, deps: WarmDeps): WarmingStore {
  const stopped = new AbortController();
  let warming: string | undefined;

  /** Opens `store` and answers one question from it; undefined once ready, else why not (secrets redacted). */
  const tryWarm = async (kind: Exclude<StoreKind, "none">, started: number): Promise<string | undefined> => {
    try {
      const result = await deps.openRetriever(kind);
      if ("unavailable" in result) return redact(result.unavailable, deps.secrets);
      // Opened while the app was closing: its threads would outlive it.
      if (stopped.signal.aborted) {
        if (isClosable(result)) await result.close();
        return "the app closed";
      }
      // One answer through the whole pipeline with the offline answerer (local, no network), written nowhere:
      // retrieval is warm in its threads already, but this thread's own first answer (prompting, citation
      // filtering, SSE formatting) ran several times slower than the next before it was compiled.
      const warmUp = answer(
        { question: WARM_QUESTION, temperature: 0, maxTokens: 256 },
        { retriever: result, model: createOfflineModel() },
      );
      await pipeEvents(warmUp, async () => {}, new AbortController().signal);
      const { chunks } = result.describe();
      deps.log(`store ${kind} ready: ${chunks} chunks in ${Math.round(performance.now() - started)} ms`);
      const advice = storeAdvice(kind, chunks);
      if (advice) deps.log(advice);
      return undefined;
    } catch (error) {
      return redact(errorForLog(error), deps.secrets);
    }
  };

  const warm = async (): Promise<void> => {
    if (store === "none") return;
    const kind = store as Exclude<StoreKind, "none">;
    warming = store;
    const started = performance.now();
    try {
      const why = await tryWarm(kind, started);
      if (why === undefined) return;
      deps.log(`store ${store} not opened at start: ${why}; trying again in the background`);
      retry(
        async () => {
          const again = await tryWarm(kind, started);
          if (again !== undefined) throw new Error(again);
        },
        { policy: WARM_RETRY, classify: (outcome) => !outcome.ok && {}, signal: stopped.signal },
      ).catch((error: unknown) => {
        if (!stopped.signal.aborted)
          deps.log(`store ${store} still not opened: ${errorForLog(error)}; the first question that needs it opens it`);
      });
    } finally {
      warming = undefined;
    }
  };

  return { ready: warm(), warming: () => warming, stop: () => stopped.abort() };
}
