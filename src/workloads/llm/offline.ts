/**
 * The offline extractive answerer: no network, no model weights, deterministic. It scores every sentence of
 * the retrieved sources by overlap with the question's content words (rarer words weigh more), picks the best
 * few, and cites each with its source number. Good enough to exercise the whole RAG path locally and in tests.
 */
import { lexicalTerms } from "../rag/analyze.js";
import { proseSentences } from "../rag/sentences.js";
import type { RetrievedSource } from "../rag/types.js";
import { type ChatModel, estimateTokens, type GenerateOptions, type ModelEvent, type ModelInput } from "./types.js";

/** Retrieval found nothing that passes its relevance floor: said plainly, and no sources are shown. */
export const NO_SOURCES_ANSWER = "I found nothing about this in the documentation.";
/** Passages were found, but no sentence of theirs shares a word with the question. */
export const NO_SENTENCE_ANSWER =
  "None of the passages found says this in a sentence I can quote; the sources listed are the closest matches.";
export const NO_STORE_ANSWER =
  "The offline answerer only answers from retrieved documentation; choose a vector store (local, Chroma or Pinecone).";

interface Sentence {
  text: string;
  n: number;
  order: number;
  terms: Set<string>;
}

/**
 * The answer text (with [n] citations) for a question over sources: whole sentences copied from the sources
 * (see proseSentences), each followed by the number of the source it comes from. Pure; used by the model
 * function too. Sentences are scored by the question's index terms they hold, rarer terms weighing more; the
 * terms are the lexical index's, so a passage retrieved for a word is quoted for the same word.
 */
export function extractiveAnswer(question: string, sources: readonly RetrievedSource[], maxSentences = 3): string {
  if (sources.length === 0) return NO_SOURCES_ANSWER;
  const terms = [...new Set(lexicalTerms(question))];
  const sentences: Sentence[] = sources.flatMap((source, i) =>
    proseSentences(source.text).map((text, j) => ({
      text,
      n: source.n,
      order: i * 10_000 + j,
      terms: new Set(lexicalTerms(text)),
    })),
  );
  const df = new Map<string, number>();
  for (const term of terms) df.set(term, sentences.filter((s) => s.terms.has(term)).length);
  const scored = sentences
    .map((s) => {
      let score = 0;
      for (const term of terms) {
        if (s.terms.has(term)) score += Math.log(1 + sentences.length / (df.get(term) ?? 1));
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
  if (picked.length === 0) return NO_SENTENCE_ANSWER;
  // Reading order: by source rank, then position, so the answer flows like the documentation.
  picked.sort((a, b) => a.n - b.n || a.order - b.order);
  return picked.map((s) => `${s.text} [${s.n}]`).join(" ");
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
