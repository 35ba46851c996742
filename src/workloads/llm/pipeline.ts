/**
 * The one answer pipeline the chat app and model-query share: condense the question with the history,
 * retrieve, build the prompt, stream the model, filter citations, time it. It yields the same events the
 * app sends as SSE, so the CLI and the browser see identical behaviour.
 */

import { redact } from "../../shared/secrets.js";
import type { RetrievedSource, Retriever } from "../rag/types.js";
import { CitationFilter } from "./citations.js";
import { abortable } from "./deadline.js";
import { buildModelInput, condenseQuestion } from "./prompt.js";
import { type ChatMessage, type ChatModel, isModelError } from "./types.js";

/** A source as the user sees it (the passage is capped: the panel shows an excerpt, not the page). */
export interface SourceView {
  n: number;
  title: string;
  section: string;
  url: string;
  text: string;
  score: number;
}

export type ChatEvent =
  | { type: "sources"; sources: SourceView[]; query: string; retrievalMs: number }
  | { type: "delta"; text: string }
  | {
      type: "usage";
      model: string;
      store: string;
      inputTokens: number;
      outputTokens: number;
      estimated: boolean;
      stopReason?: string;
      retrievalMs: number;
      /** From the request's start to the first visible answer text. */
      firstTokenMs: number | null;
      totalMs: number;
    }
  | { type: "done"; cited: number[] }
  | { type: "error"; message: string };

export interface AnswerRequest {
  question: string;
  history?: ChatMessage[];
  temperature: number;
  maxTokens: number;
  /** How many sources to retrieve (default 5). */
  k?: number;
  signal?: AbortSignal;
}

export interface AnswerDeps {
  /** Null for store `none`: the model answers directly. */
  retriever: Retriever | null;
  model: ChatModel;
  /** Values never to appear in an error message (API keys the caller knows about). */
  secrets?: readonly string[];
  /** Unexpected failures (bugs) go here with their stack; the user sees a generic message. */
  onInternalError?: (error: unknown) => void;
  now?: () => number;
}

const EXCERPT_CHARS = 1_500;

export async function* answer(request: AnswerRequest, deps: AnswerDeps): AsyncIterable<ChatEvent> {
  const now = deps.now ?? (() => performance.now());
  const started = now();
  const history = request.history ?? [];
  const query = condenseQuestion(request.question, history);
  let sources: RetrievedSource[] = [];
  const store = deps.retriever?.describe().store ?? "none";
  try {
    if (deps.retriever) {
      sources = await deps.retriever.retrieve(query, {
        k: request.k ?? 5,
        ...(request.signal ? { signal: request.signal } : {}),
      });
    }
  } catch (error) {
    if (request.signal?.aborted) return;
    deps.onInternalError?.(error);
    const why = error instanceof Error ? error.message.slice(0, 200) : String(error);
    yield { type: "error", message: redact(`retrieval from ${store} failed: ${why}`, deps.secrets ?? []) };
    return;
  }
  const retrievalMs = now() - started;
  yield { type: "sources", sources: sources.map(view), query, retrievalMs };

  const input = buildModelInput(request.question, sources, history, deps.retriever !== null);
  const filter = new CitationFilter(sources.map((s) => s.n));
  let firstTokenMs: number | null = null;
  try {
    const events = deps.model.stream(input, {
      temperature: request.temperature,
      maxTokens: request.maxTokens,
      ...(request.signal ? { signal: request.signal } : {}),
    });
    // A back-end that ignores the signal must still not keep a cancelled answer (and its slot) alive.
    for await (const event of request.signal ? abortable(events, request.signal) : events) {
      if (event.type === "delta") {
        const text = filter.push(event.text);
        if (text) {
          firstTokenMs ??= now() - started;
          yield { type: "delta", text };
        }
        continue;
      }
      const rest = filter.flush();
      if (rest) {
        firstTokenMs ??= now() - started;
        yield { type: "delta", text: rest };
      }
      yield {
        type: "usage",
        model: deps.model.id,
        store,
        inputTokens: event.inputTokens,
        outputTokens: event.outputTokens,
        estimated: event.estimated,
        ...(event.stopReason ? { stopReason: event.stopReason } : {}),
        retrievalMs,
        firstTokenMs,
        totalMs: now() - started,
      };
    }
  } catch (error) {
    if (request.signal?.aborted) {
      yield { type: "error", message: "stopped" };
      return;
    }
    if (isModelError(error)) {
      yield { type: "error", message: redact(error.message, deps.secrets ?? []) };
    } else {
      deps.onInternalError?.(error);
      yield { type: "error", message: "the answer failed because of an internal error; see the server log" };
    }
    return;
  }
  yield { type: "done", cited: [...filter.cited].sort((a, b) => a - b) };
}

function view(source: RetrievedSource): SourceView {
  return {
    n: source.n,
    title: source.title,
    section: source.section,
    url: source.url,
    text: source.text.length > EXCERPT_CHARS ? `${source.text.slice(0, EXCERPT_CHARS)}…` : source.text,
    score: source.score,
  };
}

/** Runs the pipeline to the end and gathers the events (model-query, the model function, tests). */
export interface CollectedAnswer {
  answer: string;
  sources: SourceView[];
  /** The retrieval query (the question, condensed with the history for a follow-up). */
  query: string;
  usage: Extract<ChatEvent, { type: "usage" }> | undefined;
  cited: number[];
  error: string | undefined;
}

export async function collectAnswer(request: AnswerRequest, deps: AnswerDeps): Promise<CollectedAnswer> {
  const result: CollectedAnswer = {
    answer: "",
    sources: [],
    query: request.question,
    usage: undefined,
    cited: [],
    error: undefined,
  };
  for await (const event of answer(request, deps)) {
    if (event.type === "sources") {
      result.sources = event.sources;
      result.query = event.query;
    } else if (event.type === "delta") result.answer += event.text;
    else if (event.type === "usage") result.usage = event;
    else if (event.type === "done") result.cited = event.cited;
    else result.error = event.message;
  }
  return result;
}
