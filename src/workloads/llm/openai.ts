/**
 * Cloudera AI Inference (and any OpenAI-compatible server): POST {baseUrl}/chat/completions with
 * `stream: true` and a Bearer token; plain chat messages, no hand-made template tags (the server applies the
 * model's chat template). Usage comes from the final chunk when the server honours `stream_options`.
 */
import { CallDeadline } from "./deadline.js";
import { readSse } from "./sse.js";
import {
  type ChatModel,
  estimateTokens,
  type GenerateOptions,
  ModelError,
  type ModelEvent,
  type ModelInput,
} from "./types.js";
import { errorDetail, isRecord } from "./upstream.js";

export interface OpenAiConfig {
  /** e.g. https://<caii-domain>/namespaces/serving-default/endpoints/<name>/v1 (the endpoint URL minus /chat/completions). */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Idle timeout: the longest gap allowed between bytes (default 60 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function createOpenAiModel(config: OpenAiConfig): ChatModel {
  const url = `${config.baseUrl.replace(/\/+$/, "").replace(/\/chat\/completions$/, "")}/chat/completions`;
  return {
    id: "openai",
    describe: () => `OpenAI-compatible endpoint, model ${config.model}`,
    stream: (input, options) => streamOpenAi(url, config, input, options),
  };
}

async function* streamOpenAi(
  url: string,
  config: OpenAiConfig,
  input: ModelInput,
  options: GenerateOptions,
): AsyncIterable<ModelEvent> {
  const deadline = new CallDeadline(options.signal, config.timeoutMs ?? 60_000, "the inference endpoint");
  const secrets = [config.apiKey];
  const doFetch = config.fetch ?? fetch;
  let output = "";
  let usage: { inputTokens: number; outputTokens: number } | undefined;
  let stopReason: string | undefined;
  try {
    const response = await doFetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: config.model,
        messages: [{ role: "system", content: input.system }, ...input.messages],
        temperature: options.temperature,
        max_tokens: options.maxTokens,
        stream: true,
        stream_options: { include_usage: true },
      }),
      signal: deadline.signal,
    });
    if (!response.ok || !response.body) {
      throw new ModelError(
        response.status === 401 || response.status === 403 ? "auth" : "upstream",
        `the inference endpoint answered ${response.status} ${response.statusText}${await errorDetail(response, secrets)}`,
      );
    }
    for await (const { data } of readSse(response.body, deadline.signal, () => deadline.touch())) {
      if (data === "[DONE]") break;
      const chunk = parseChunk(data);
      if (chunk.error) throw new ModelError("upstream", `the inference endpoint reported an error: ${chunk.error}`);
      if (chunk.text) {
        output += chunk.text;
        yield { type: "delta", text: chunk.text };
      }
      if (chunk.finishReason) stopReason = chunk.finishReason;
      if (chunk.usage) usage = chunk.usage;
    }
  } catch (error) {
    throw deadline.toError(error, secrets);
  } finally {
    deadline.done();
  }
  yield {
    type: "usage",
    inputTokens: usage?.inputTokens ?? estimateTokens(input.system + input.messages.map((m) => m.content).join("")),
    outputTokens: usage?.outputTokens ?? estimateTokens(output),
    estimated: usage === undefined,
    ...(stopReason ? { stopReason } : {}),
  };
}

interface Chunk {
  text?: string;
  finishReason?: string;
  usage?: { inputTokens: number; outputTokens: number };
  error?: string;
}

/** Reads one `chat.completion.chunk` defensively: servers differ in which fields they send. */
function parseChunk(data: string): Chunk {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { error: "a malformed stream chunk" };
  }
  if (!isRecord(value)) return {};
  const out: Chunk = {};
  if (isRecord(value.error))
    out.error = typeof value.error.message === "string" ? value.error.message.slice(0, 300) : "unknown";
  const choice = Array.isArray(value.choices) ? value.choices[0] : undefined;
  if (isRecord(choice)) {
    if (isRecord(choice.delta) && typeof choice.delta.content === "string") out.text = choice.delta.content;
    if (typeof choice.finish_reason === "string") out.finishReason = choice.finish_reason;
  }
  if (
    isRecord(value.usage) &&
    typeof value.usage.prompt_tokens === "number" &&
    typeof value.usage.completion_tokens === "number"
  ) {
    out.usage = { inputTokens: value.usage.prompt_tokens, outputTokens: value.usage.completion_tokens };
  }
  return out;
}
