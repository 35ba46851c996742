/**
 * The one interface every model back-end implements (offline, Bedrock, CML model endpoint, OpenAI-compatible).
 * A back-end turns a prepared prompt into text deltas followed by one usage record; it never retrieves and
 * never filters citations (the pipeline does both, so every back-end behaves the same to the user).
 */
import type { RetrievedSource } from "../rag/types.js";

export type ModelId = "offline" | "bedrock" | "cml" | "openai";
export const MODEL_IDS: readonly ModelId[] = ["offline", "bedrock", "cml", "openai"];

export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
}

/** What the pipeline hands a back-end: the instructions, the conversation, and what it was built from. */
export interface ModelInput {
  /** Instructions (a system prompt where the back-end has one; folded into [INST] for Mistral). */
  system: string;
  /** Conversation, oldest first; the last message is the user turn with the numbered sources and the question. */
  messages: ChatMessage[];
  /** The standalone question (the offline answerer matches sentences against it). */
  question: string;
  /** The numbered sources the prompt contains (empty with store `none`). */
  sources: RetrievedSource[];
  /** False with store `none`: the model answers directly, without sources. */
  grounded: boolean;
}

export interface GenerateOptions {
  /** 0–1. */
  temperature: number;
  /** Upper bound on generated tokens. */
  maxTokens: number;
  /** Aborts the upstream call (client disconnect, stop button, Ctrl-C). */
  signal?: AbortSignal;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** True when the upstream did not report counts and these are estimates (≈ 4 characters per token). */
  estimated: boolean;
  stopReason?: string;
}

export type ModelEvent = { type: "delta"; text: string } | ({ type: "usage" } & Usage);

export interface ChatModel {
  readonly id: ModelId;
  /** Human-readable description for /api/config and logs (never a secret). */
  describe(): string;
  stream(input: ModelInput, options: GenerateOptions): AsyncIterable<ModelEvent>;
}

/** Why a model call failed, in words fit for a user (never a secret, never a raw upstream body). */
export type ModelErrorKind = "timeout" | "aborted" | "upstream" | "auth" | "config";

export class ModelError extends Error {
  override readonly name = "ModelError";
  constructor(
    readonly kind: ModelErrorKind,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

export function isModelError(error: unknown): error is ModelError {
  return error instanceof ModelError;
}

/** ≈ 4 characters per token: good enough for budget display when an upstream reports nothing. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
