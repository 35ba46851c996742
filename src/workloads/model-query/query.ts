/**
 * model-query: the lab's notebook exercises (query the vector DB; query the hosted model; retriever → prompt
 * → model) as one call over the same pipeline, back-ends and stores the chat app uses.
 */

import { secretValuesOf } from "../../shared/secrets.js";
import type { OpenRetriever } from "../app/stores.js";
import { CHAT_LIMITS, STORE_KINDS } from "../app/validate.js";
import { type CollectedAnswer, collectAnswer } from "../llm/pipeline.js";
import { createModel, parseModelId } from "../llm/registry.js";
import type { ChatModel } from "../llm/types.js";
import type { Retriever, StoreKind } from "../rag/types.js";

export interface QueryOptions {
  question: string;
  model: string;
  store: string;
  env: NodeJS.ProcessEnv;
  openRetriever: OpenRetriever;
  temperature?: number;
  maxTokens?: number;
  k?: number;
  signal?: AbortSignal;
  /** Injected in tests; defaults to the env-configured back-end. */
  chatModel?: ChatModel;
}

export interface QueryResult extends CollectedAnswer {
  question: string;
  model: string;
  store: StoreKind;
}

/** A mistake in what the user asked for (unknown or unconfigured model or store). */
export class QuerySetupError extends Error {
  override readonly name = "QuerySetupError";
}

export async function runQuery(options: QueryOptions): Promise<QueryResult> {
  // The chat API's limits (validate.ts): a blank question once read as "nothing found", and --k -1 or abc
  // silently retrieved nothing or the default.
  if (options.question.trim() === "") throw new QuerySetupError("the question is empty");
  if (options.question.length > CHAT_LIMITS.questionChars)
    throw new QuerySetupError(
      `the question has ${options.question.length} characters; at most ${CHAT_LIMITS.questionChars}`,
    );
  const { min, max } = CHAT_LIMITS.sources;
  if (options.k !== undefined && !(Number.isInteger(options.k) && options.k >= min && options.k <= max))
    throw new QuerySetupError(`k (sources to retrieve) must be an integer from ${min} to ${max}, not ${options.k}`);
  const modelId = parseModelId(options.model);
  if (!modelId) throw new QuerySetupError(`unknown model ${options.model} (offline, bedrock, cml or openai)`);
  const store = STORE_KINDS.find((s) => s === options.store);
  if (!store) throw new QuerySetupError(`unknown store ${options.store} (${STORE_KINDS.join(", ")})`);
  const model = options.chatModel ?? createModel(modelId, options.env);
  if ("unavailable" in model) throw new QuerySetupError(model.unavailable);
  let retriever: Retriever | null = null;
  if (store !== "none") {
    const opened = await options.openRetriever(store);
    if ("unavailable" in opened) throw new QuerySetupError(opened.unavailable);
    retriever = opened;
  }
  const result = await collectAnswer(
    {
      question: options.question,
      temperature: options.temperature ?? 0.2,
      maxTokens: options.maxTokens ?? 512,
      ...(options.k !== undefined ? { k: options.k } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    },
    { retriever, model, secrets: secretValuesOf(options.env) },
  );
  return { ...result, question: options.question, model: modelId, store };
}

const ms = (value: number | null | undefined) =>
  value === null || value === undefined ? "–" : `${Math.round(value)} ms`;

/** What `cml-lab query` prints without --json. */
export function renderQuery(result: QueryResult): string[] {
  const lines = [`Answer (${result.model}, store ${result.store}):`, ""];
  lines.push(...(result.answer || "(no answer)").split("\n").map((l) => `  ${l}`), "");
  if (result.store !== "none") {
    lines.push(result.sources.length > 0 ? "Sources:" : "Sources: none matched");
    for (const source of result.sources) {
      const cited = result.cited.includes(source.n) ? "" : "  (not cited)";
      lines.push(`  [${source.n}] ${source.section || source.title}${cited}`, `      ${source.url}`);
    }
    if (result.query !== result.question) lines.push(`  retrieval query: ${result.query}`);
    lines.push("");
  }
  const u = result.usage;
  if (u) {
    lines.push(
      `Timings: retrieval ${ms(u.retrievalMs)} · first token ${ms(u.firstTokenMs)} · total ${ms(u.totalMs)} · ` +
        `tokens ${u.inputTokens} in / ${u.outputTokens} out${u.estimated ? " (estimated)" : ""}`,
    );
  }
  return lines;
}
