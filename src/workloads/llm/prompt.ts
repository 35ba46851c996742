/**
 * Prompt building shared by every back-end: numbered source blocks, the answer-from-sources instruction,
 * bounded history, and the question. Budgets are in characters because no tokenizer runs here.
 */
import { linkLabels, unescapeMarkdown } from "../rag/markdown-text.js";
import type { RetrievedSource } from "../rag/types.js";
import type { ChatMessage, ModelInput } from "./types.js";

export const PROMPT_LIMITS = {
  /** Characters of source text in one prompt (≈ 3k tokens), split across sources in rank order. */
  sourceChars: 12_000,
  /** Earlier turns kept verbatim (most recent first). */
  historyTurns: 6,
  historyChars: 6_000,
};

const WITH_SOURCES = [
  "You are a helpful assistant answering questions about documentation.",
  "Answer only from the numbered sources provided with the question.",
  "After each claim, cite the source it comes from as [n], using only the numbers provided.",
  "If the sources do not contain the answer, say that you do not know. Be concise; use Markdown.",
].join(" ");

const WITHOUT_SOURCES = "You are a helpful assistant. Answer the question concisely; use Markdown.";

/**
 * Source text as the model should read it: a link or image keeps only its label, Markdown escapes go. The
 * extracted docs link every API name (`[`sys.stdout`](../library/sys.html#sys.stdout "sys.stdout")`): without the
 * targets the Python docs' passages are 19% shorter (PostgreSQL's 7%), and the source's own URL is in its header.
 */
export function promptText(markdown: string): string {
  return unescapeMarkdown(linkLabels(markdown));
}

export function formatSources(sources: readonly RetrievedSource[], budget = PROMPT_LIMITS.sourceChars): string {
  const blocks: string[] = [];
  let left = budget;
  for (const source of sources) {
    if (left <= 0) break;
    const plain = promptText(source.text);
    const text = plain.length > left ? `${plain.slice(0, left)}…` : plain;
    left -= text.length;
    const where = source.section && source.section !== source.title ? source.section : source.title;
    blocks.push(`[${source.n}] ${where} (${source.url})\n${text}`);
  }
  return blocks.join("\n\n");
}

/** Keeps the most recent turns within the budget, dropping an orphan assistant turn at the start. */
export function trimHistory(history: readonly ChatMessage[]): ChatMessage[] {
  const kept: ChatMessage[] = [];
  let chars = 0;
  for (let i = history.length - 1; i >= 0 && kept.length < PROMPT_LIMITS.historyTurns; i--) {
    const message = history[i];
    if (!message) continue;
    if (chars + message.content.length > PROMPT_LIMITS.historyChars) break;
    chars += message.content.length;
    kept.unshift(message);
  }
  while (kept[0]?.role === "assistant") kept.shift();
  return kept;
}

export function buildModelInput(
  question: string,
  sources: readonly RetrievedSource[],
  history: readonly ChatMessage[] = [],
  withStore = true,
): ModelInput {
  const turn = withStore
    ? sources.length > 0
      ? `Sources:\n\n${formatSources(sources)}\n\nQuestion: ${question}`
      : `No sources matched this question.\n\nQuestion: ${question}`
    : question;
  return {
    system: withStore ? WITH_SOURCES : WITHOUT_SOURCES,
    messages: [...trimHistory(history), { role: "user", content: turn }],
    question,
    sources: [...sources],
    grounded: withStore,
  };
}

const FOLLOW_UP = /\b(it|its|it's|this|that|these|those|they|them|their|he|she|there|same|above|previous|more|else)\b/i;

/**
 * The query used for retrieval. A follow-up ("how do I install it?") names nothing to retrieve by, so it is
 * condensed with the previous user question. Deterministic on purpose: an extra model round-trip per
 * question would double latency and cost, and the offline back-end has no model to ask.
 */
export function condenseQuestion(question: string, history: readonly ChatMessage[] = []): string {
  const previous = [...history].reverse().find((m) => m.role === "user");
  if (!previous) return question;
  const words = question.trim().split(/\s+/).length;
  if (words > 12 && !FOLLOW_UP.test(question)) return question;
  if (!FOLLOW_UP.test(question) && words > 5) return question;
  return `${previous.content.trim()} ${question.trim()}`;
}
