/** Validation of POST /api/chat bodies: every problem names its field, so the UI can point at it. */
import type { ChatMessage, ModelId } from "../llm/types.js";
import { MODEL_IDS } from "../llm/types.js";
import { isRecord } from "../llm/upstream.js";
import type { StoreKind } from "../rag/types.js";

export const CHAT_LIMITS = {
  questionChars: 4_000,
  historyItems: 20,
  historyItemChars: 8_000,
  temperature: { min: 0, max: 1 },
  maxTokens: { min: 1, max: 4_096 },
  /** Passages retrieved for one answer (`cml-lab query --k`); the app always asks for the pipeline's default. */
  sources: { min: 1, max: 20 },
  /** Request body bytes (the history dominates). */
  bodyBytes: 200_000,
};

export const STORE_KINDS: readonly StoreKind[] = ["none", "local", "chroma", "pinecone"];

export interface ChatRequestBody {
  question: string;
  history: ChatMessage[];
  model: ModelId;
  store: StoreKind;
  temperature: number;
  maxTokens: number;
}

export type Validated = { ok: true; value: ChatRequestBody } | { ok: false; field: string; message: string };

const FIELDS = new Set(["question", "history", "model", "store", "temperature", "maxTokens"]);

export function validateChatBody(body: unknown): Validated {
  const fail = (field: string, message: string): Validated => ({ ok: false, field, message });
  if (typeof body !== "object" || body === null || Array.isArray(body)) return fail("body", "expected a JSON object");
  const record: Record<string, unknown> = { ...body };
  const unknown = Object.keys(record).find((k) => !FIELDS.has(k));
  if (unknown) return fail(unknown, `unknown field (expected ${[...FIELDS].join(", ")})`);

  const question = record.question;
  if (typeof question !== "string" || question.trim() === "") return fail("question", "a non-empty string is required");
  if (question.length > CHAT_LIMITS.questionChars)
    return fail("question", `at most ${CHAT_LIMITS.questionChars} characters`);

  const history: ChatMessage[] = [];
  if (record.history !== undefined) {
    if (!Array.isArray(record.history)) return fail("history", "expected an array of {role, content}");
    if (record.history.length > CHAT_LIMITS.historyItems)
      return fail("history", `at most ${CHAT_LIMITS.historyItems} messages`);
    for (const [i, item] of record.history.entries()) {
      const entry: unknown = item;
      const role = isRecord(entry) ? entry.role : undefined;
      const content = isRecord(entry) ? entry.content : undefined;
      if ((role !== "user" && role !== "assistant") || typeof content !== "string") {
        return fail(`history[${i}]`, "expected {role: user|assistant, content: string}");
      }
      if (content.length > CHAT_LIMITS.historyItemChars)
        return fail(`history[${i}].content`, `at most ${CHAT_LIMITS.historyItemChars} characters`);
      history.push({ role, content });
    }
  }

  const model = MODEL_IDS.find((id) => id === record.model);
  if (!model) return fail("model", `one of ${MODEL_IDS.join(", ")}`);
  const store = STORE_KINDS.find((s) => s === record.store);
  if (!store) return fail("store", `one of ${STORE_KINDS.join(", ")}`);

  const { temperature, maxTokens } = record;
  if (typeof temperature !== "number" || !Number.isFinite(temperature) || temperature < 0 || temperature > 1) {
    return fail("temperature", "a number from 0 to 1");
  }
  if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > 4_096) {
    return fail("maxTokens", "an integer from 1 to 4096");
  }
  return { ok: true, value: { question: question.trim(), history, model, store, temperature, maxTokens } };
}
