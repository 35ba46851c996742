/**
 * The offline answerer packaged as a CML model function: `predict(args)`. Two input shapes:
 * - `{question, sources: [{text, title?, url?, section?}]}` → `{answer, citations}`; or
 *   `{question, dataDir, store?}` to retrieve from what ingest wrote;
 * - the CML Mistral contract `{prompt, temperature?, max_new_tokens?}` with a prompt built by this project's
 *   cml back-end → also `{response}`, so the local platform can serve it behind the `cml` model back-end and
 *   exercise that path end to end with no GPU.
 */

import { openRetrieverFor } from "../app/retrievers.js";
import { filterCitations } from "../llm/citations.js";
import { extractiveAnswer, NO_SOURCES_ANSWER } from "../llm/offline.js";
import { isRecord } from "../llm/upstream.js";
import type { RetrievedSource, StoreKind } from "../rag/types.js";

export interface Citation {
  n: number;
  title: string;
  url: string;
}

export interface PredictResult {
  answer: string;
  citations: Citation[];
  /** The answer again, under the key CML's Mistral clients read (only for `prompt` input). */
  response?: string;
}

export class PredictInputError extends Error {
  override readonly name = "PredictInputError";
}

export async function predict(args: unknown): Promise<PredictResult> {
  if (!isRecord(args)) throw new PredictInputError('expected a JSON object like {"question": "…", "sources": [...]}');
  if (typeof args.prompt === "string" && args.question === undefined) {
    const parsed = parseMistralPrompt(args.prompt);
    const result = answerFrom(parsed.question, parsed.sources, maxSentences(args));
    return { ...result, response: result.answer };
  }
  const question = args.question;
  if (typeof question !== "string" || question.trim() === "")
    throw new PredictInputError("`question` must be a non-empty string");
  if (Array.isArray(args.sources)) return answerFrom(question, readSources(args.sources), maxSentences(args));
  if (typeof args.dataDir === "string") {
    const store = parseStore(args.store);
    const opened = await openRetrieverFor(args.dataDir, process.env)(store);
    if ("unavailable" in opened) throw new PredictInputError(opened.unavailable);
    const sources = await opened.retrieve(question, { k: typeof args.k === "number" ? args.k : 5 });
    return answerFrom(question, sources, maxSentences(args));
  }
  throw new PredictInputError("give `sources` (an array of {text, title?, url?}) or `dataDir`");
}

function parseStore(value: unknown): Exclude<StoreKind, "none"> {
  if (value === undefined) return "local";
  if (value === "local" || value === "chroma" || value === "pinecone") return value;
  throw new PredictInputError("`store` must be local, chroma or pinecone");
}

function maxSentences(args: Record<string, unknown>): number {
  const value = args.max_sentences ?? args.maxSentences;
  return typeof value === "number" && Number.isInteger(value) && value > 0 && value <= 10 ? value : 3;
}

function answerFrom(question: string, sources: RetrievedSource[], sentences: number): PredictResult {
  const raw = sources.length > 0 ? extractiveAnswer(question, sources, sentences) : NO_SOURCES_ANSWER;
  const { text, cited } = filterCitations(
    raw,
    sources.map((s) => s.n),
  );
  const citations = cited.flatMap((n) => {
    const source = sources.find((s) => s.n === n);
    return source ? [{ n, title: source.title, url: source.url }] : [];
  });
  return { answer: text, citations };
}

function readSources(items: unknown[]): RetrievedSource[] {
  return items.map((item, i) => {
    if (!isRecord(item) || typeof item.text !== "string")
      throw new PredictInputError(`sources[${i}] needs a string \`text\``);
    const title = typeof item.title === "string" ? item.title : `Source ${i + 1}`;
    return {
      n: i + 1,
      docId: typeof item.url === "string" ? item.url : `source-${i + 1}`,
      title,
      section: typeof item.section === "string" ? item.section : title,
      url: typeof item.url === "string" ? item.url : "",
      text: item.text,
      score: 1 - i / items.length,
    };
  });
}

/**
 * Recovers the question and numbered sources from the last [INST] block of a prompt built by prompt.ts
 * (`Sources:\n\n[n] where (url)\ntext…\n\nQuestion: …`). Anything else is answered as a bare question.
 */
export function parseMistralPrompt(prompt: string): { question: string; sources: RetrievedSource[] } {
  const start = prompt.lastIndexOf("[INST]");
  const end = prompt.lastIndexOf("[/INST]");
  const turn = prompt.slice(start >= 0 ? start + 6 : 0, end > start ? end : undefined).trim();
  const q = turn.lastIndexOf("\nQuestion: ");
  const question = q >= 0 ? turn.slice(q + "\nQuestion: ".length).trim() : turn;
  const sources: RetrievedSource[] = [];
  const body = q >= 0 ? turn.slice(0, q) : "";
  const blocks = body.split(/\n\n(?=\[\d{1,3}\] )/);
  for (const block of blocks) {
    const header = /^(?:[\s\S]*?Sources:\n\n)?\[(\d{1,3})\] (.*) \(([^()\s]*)\)\n([\s\S]*)$/.exec(block);
    if (!header) continue;
    const [, n, where = "", url = "", text = ""] = header;
    sources.push({
      n: Number(n),
      docId: url,
      title: where.split(" › ")[0] ?? where,
      section: where,
      url,
      text,
      score: 0,
    });
  }
  return { question, sources };
}
