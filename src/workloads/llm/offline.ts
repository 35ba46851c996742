/**
 * The offline extractive answerer: no network, no model weights, deterministic. It scores every sentence of
 * the retrieved sources by overlap with the question's content words (rarer words weigh more), picks the best
 * few, and cites each with its source number. Good enough to exercise the whole RAG path locally and in tests.
 */
import type { RetrievedSource } from "../rag/types.js";
import { type ChatModel, estimateTokens, type GenerateOptions, type ModelEvent, type ModelInput } from "./types.js";

const STOPWORDS = new Set(
  (
    "a an and are as at be but by can could do does did for from has have how i if in into is it its me my of on or " +
    "our should so than that the their them then there these they this to was we were what when where which who " +
    "why will with would you your about use using used get"
  ).split(" "),
);

export const NO_SOURCES_ANSWER =
  "I could not find anything about this in the documentation. Choose a vector store, or rephrase the question.";
export const NO_STORE_ANSWER =
  "The offline answerer only answers from retrieved documentation; choose a vector store (local, Chroma or Pinecone).";

export function contentWords(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9_]+/g) ?? []).filter((w) => w.length > 1 && !STOPWORDS.has(w));
}

/** Light stemming so "loops" matches "loop" and "defined" matches "define". */
function stem(word: string): string {
  return word.replace(/(ing|ed|es|s)$/, "") || word;
}

interface Sentence {
  text: string;
  n: number;
  order: number;
  words: Set<string>;
}

function plainSentences(source: RetrievedSource, offset: number): Sentence[] {
  const text = source.text
    .replace(/```[\s\S]*?```/g, " ")
    .replace(/^#{1,6}\s+.*$/gm, " ")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[*_]{1,2}([^*_]+)[*_]{1,2}/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
  const parts = text.match(/[^.!?]+[.!?]+(?=\s|$)|[^.!?]+$/g) ?? [];
  return parts
    .map((s) => s.trim())
    .filter((s) => s.length >= 20 && s.length <= 600)
    .map((s, i) => ({ text: s, n: source.n, order: offset + i, words: new Set(contentWords(s).map(stem)) }));
}

/** The answer text (with [n] citations) for a question over sources. Pure; used by the model function too. */
export function extractiveAnswer(question: string, sources: readonly RetrievedSource[], maxSentences = 3): string {
  if (sources.length === 0) return NO_SOURCES_ANSWER;
  const terms = [...new Set(contentWords(question).map(stem))];
  const sentences = sources.flatMap((s, i) => plainSentences(s, i * 10_000));
  if (terms.length === 0 || sentences.length === 0) return NO_SOURCES_ANSWER;
  const df = new Map<string, number>();
  for (const term of terms) df.set(term, sentences.filter((s) => s.words.has(term)).length);
  const scored = sentences
    .map((s) => {
      let score = 0;
      for (const term of terms) {
        if (s.words.has(term)) score += Math.log(1 + sentences.length / (df.get(term) ?? 1));
      }
      // Prefer higher-ranked sources on ties, then earlier sentences.
      return { s, score: score - s.n * 1e-3 - (s.order % 10_000) * 1e-6 };
    })
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score);
  const picked: Sentence[] = [];
  for (const { s } of scored) {
    if (picked.length >= maxSentences) break;
    if (picked.some((p) => p.text === s.text)) continue;
    picked.push(s);
  }
  if (picked.length === 0) return NO_SOURCES_ANSWER;
  // Reading order: by source rank, then position, so the answer flows like the documentation.
  picked.sort((a, b) => a.n - b.n || a.order - b.order);
  return picked.map((s) => `${s.text.replace(/[.!?]+$/, "")}. [${s.n}]`).join(" ");
}

export function createOfflineModel(): ChatModel {
  return {
    id: "offline",
    describe: () => "offline extractive answerer (no network)",
    stream: (input, options) => streamOffline(input, options),
  };
}

async function* streamOffline(input: ModelInput, options: GenerateOptions): AsyncIterable<ModelEvent> {
  const full = input.grounded ? extractiveAnswer(input.question, input.sources) : NO_STORE_ANSWER;
  // Word-sized deltas, as a real model streams; maxTokens bounds the words emitted.
  const pieces = full.match(/\S+\s*/g) ?? [];
  for (const [i, piece] of pieces.entries()) {
    if (i >= options.maxTokens) break;
    options.signal?.throwIfAborted();
    yield { type: "delta", text: piece };
  }
  const inputText = input.system + input.messages.map((m) => m.content).join("\n");
  yield {
    type: "usage",
    inputTokens: estimateTokens(inputText),
    outputTokens: Math.min(pieces.length, options.maxTokens),
    estimated: true,
    stopReason: pieces.length > options.maxTokens ? "max_tokens" : "end_turn",
  };
}
