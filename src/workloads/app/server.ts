/**
 * The chat app as a Hono app (tests drive it in-process or over real HTTP; listen.ts only binds it).
 * POST /api/chat streams Server-Sent Events: `sources`, `delta`…, `usage`, then `done` or `error`.
 */

import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import { errorForLog } from "../../shared/errors.js";
import { redact, secretValuesOf } from "../../shared/secrets.js";
import { answer } from "../llm/pipeline.js";
import { createModel as createModelFromEnv, type ModelChoice, modelChoices } from "../llm/registry.js";
import type { ChatModel, ModelId } from "../llm/types.js";
import { isClosable } from "../rag/retriever-pool.js";
import { storeAdvice } from "../rag/stores/local-scale.js";
import type { Retriever } from "../rag/types.js";
import { refuseCrossSite } from "./cross-site.js";
import { pipeEvents } from "./sse-writer.js";
import { cachedOpener, type OpenRetriever, type StoreChoice } from "./stores.js";
import { loadUi } from "./ui-files.js";
import { CHAT_LIMITS, validateChatBody } from "./validate.js";
import { warmStore } from "./warm-start.js";

export interface ChatAppOptions {
  env: NodeJS.ProcessEnv;
  stores: StoreChoice[];
  openRetriever: OpenRetriever;
  /** Defaults to the env-configured back-ends (llm/registry). */
  createModel?: (id: ModelId) => ChatModel | { unavailable: string };
  /** At most this many generations at once per client (default 2); beyond → 429. */
  maxConcurrentPerClient?: number;
  /** Identifies a client for the concurrency cap (default: the peer address; see listen.ts). */
  clientKey?: (c: Context) => string;
  /** One line per chat and per internal error; never a secret, never the question text. */
  log?: (line: string) => void;
  /**
   * Open (and warm) the default store when the app starts, so the first question does not pay for loading the
   * index; /healthz answers 503 "not ready" until then. Off by default: tests that inject an opener see it
   * called on the first question only, as before.
   */
  warmAtStart?: boolean;
}

/** The app, and what its server needs around it: when it is ready and how to release what it opened. */
export interface ChatService {
  app: Hono;
  /** Settles when the start-up warm (if any) has finished, whether or not the store could be opened. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join("; ");

export function createChatApp(options: ChatAppOptions): Hono {
  return createChatService(options).app;
}

export function createChatService(options: ChatAppOptions): ChatService {
  const app = new Hono();
  const log = options.log ?? (() => {});
  const cached = cachedOpener(options.openRetriever);
  /** Retrievers opened so far, by store: for /api/config's size advice and for close(). */
  const opened = new Map<string, Retriever>();
  const openRetriever: OpenRetriever = (store) =>
    cached(store).then((result) => {
      if (!("unavailable" in result)) opened.set(store, result);
      return result;
    });
  const createModel = options.createModel ?? ((id: ModelId) => createModelFromEnv(id, options.env));
  const cap = options.maxConcurrentPerClient ?? 2;
  const running = new Map<string, number>();
  const clientKey = options.clientKey ?? (() => "local");
  const ui = loadUi();
  const secrets = secretValuesOf(options.env);

  app.use("*", async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
  });

  app.use("/api/*", refuseCrossSite(options.env));

  const warm = options.warmAtStart
    ? warmStore(pickDefault(options.stores, options.env.CML_LAB_DEFAULT_STORE, "local"), {
        openRetriever,
        log,
        secrets,
      })
    : undefined;

  app.get("/healthz", (c) => {
    const warming = warm?.warming();
    return warming ? c.json({ ok: false, ready: false, warming }, 503) : c.json({ ok: true, ready: true });
  });

  app.get("/api/config", (c) => {
    const models = modelChoices(options.env);
    return c.json({
      models,
      stores: options.stores.map((choice) => {
        const advice = storeAdvice(choice.id, opened.get(choice.id)?.describe().chunks ?? 0);
        return advice ? { ...choice, advice } : choice;
      }),
      defaults: {
        model: pickDefault(models, options.env.CML_LAB_DEFAULT_MODEL, "offline"),
        store: pickDefault(options.stores, options.env.CML_LAB_DEFAULT_STORE, "local"),
        temperature: 0.2,
        maxTokens: 512,
      },
      limits: {
        questionChars: CHAT_LIMITS.questionChars,
        temperature: CHAT_LIMITS.temperature,
        maxTokens: CHAT_LIMITS.maxTokens,
      },
    });
  });

  app.post(
    "/api/chat",
    bodyLimit({
      maxSize: CHAT_LIMITS.bodyBytes,
      onError: (c) => c.json({ error: `request body over ${CHAT_LIMITS.bodyBytes} bytes`, field: "body" }, 413),
    }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: "the body is not valid JSON", field: "body" }, 400);
      }
      const checked = validateChatBody(body);
      if (!checked.ok) return c.json({ error: `${checked.field}: ${checked.message}`, field: checked.field }, 400);
      const request = checked.value;

      const modelChoice = modelChoices(options.env).find((m) => m.id === request.model);
      if (!modelChoice) return c.json({ error: `model ${request.model} is not offered here`, field: "model" }, 400);
      if (!modelChoice.available)
        return c.json({ error: `model ${request.model}: ${modelChoice.detail}`, field: "model" }, 400);
      const storeChoice = options.stores.find((s) => s.id === request.store);
      if (!storeChoice) return c.json({ error: `store ${request.store} is not offered here`, field: "store" }, 400);
      if (!storeChoice.available)
        return c.json({ error: `store ${request.store}: ${storeChoice.detail}`, field: "store" }, 400);
      const model = createModel(request.model);
      if ("unavailable" in model) return c.json({ error: model.unavailable, field: "model" }, 400);

      const key = clientKey(c);
      const active = running.get(key) ?? 0;
      if (active >= cap) {
        c.header("Retry-After", "2");
        return c.json({ error: `at most ${cap} answers at a time per client; wait for one to finish` }, 429);
      }
      running.set(key, active + 1);
      const release = once(() => {
        const left = (running.get(key) ?? 1) - 1;
        if (left <= 0) running.delete(key);
        else running.set(key, left);
      });

      const controller = new AbortController();
      c.req.raw.signal.addEventListener("abort", () => controller.abort(), { once: true });
      return streamSSE(c, async (stream) => {
        stream.onAbort(() => controller.abort());
        let outcome = "done";
        const started = performance.now();
        try {
          let retriever: Retriever | null = null;
          if (request.store !== "none") {
            const opened = await openRetriever(request.store).catch((error: unknown) => ({
              unavailable: `could not open ${request.store}: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`,
            }));
            if ("unavailable" in opened) {
              outcome = "error";
              await stream.writeSSE({
                event: "error",
                data: JSON.stringify({ message: redact(opened.unavailable, secrets) }),
              });
              return;
            }
            retriever = opened;
          }
          const events = answer(
            {
              question: request.question,
              history: request.history,
              temperature: request.temperature,
              maxTokens: request.maxTokens,
              signal: controller.signal,
            },
            {
              retriever,
              model,
              secrets,
              onInternalError: (error) => log(`chat internal error: ${redact(errorForLog(error), secrets)}`),
            },
          );
          await pipeEvents(
            events,
            (chunk) => stream.write(chunk),
            controller.signal,
            (event) => {
              if (event.type === "error") outcome = "error";
            },
          );
        } finally {
          release();
          if (controller.signal.aborted) outcome = "aborted";
          log(
            `chat model=${request.model} store=${request.store} outcome=${outcome} ms=${Math.round(performance.now() - started)}`,
          );
        }
      });
    },
  );

  app.get("/", (c) => serveUi(c, "index.html"));
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/ui/:file", (c) => serveUi(c, c.req.param("file")));
  return {
    app,
    ready: warm?.ready ?? Promise.resolve(),
    async close() {
      warm?.stop();
      await Promise.all(
        [...opened.values()].map((retriever) => (isClosable(retriever) ? retriever.close() : undefined)),
      );
    },
  };

  function serveUi(c: Context, name: string) {
    const file = ui.get(name);
    if (!file) return c.notFound();
    c.header("Content-Type", file.type);
    c.header("Cache-Control", "no-cache");
    return c.body(file.body);
  }
}

function pickDefault(
  choices: readonly (ModelChoice | StoreChoice)[],
  wanted: string | undefined,
  fallback: string,
): string {
  const available = choices.filter((c) => c.available);
  return (
    available.find((c) => c.id === wanted)?.id ??
    available.find((c) => c.id === fallback)?.id ??
    available.find((c) => c.id !== "none")?.id ??
    available[0]?.id ??
    "none"
  );
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}
