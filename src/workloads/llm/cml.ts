/**
 * A model deployed on CML's model serving (the lab's Mistral-7B-Instruct, cloudera/CML_AMP_Deploy-Mistral7B):
 * POST {url} with `{accessKey, request: {prompt, temperature, max_new_tokens}}`. Non-streaming upstream, so the
 * whole answer arrives as one delta. The function decodes prompt + completion, so the echoed prompt is cut
 * off here (everything up to the last [/INST]).
 */
import { CallDeadline } from "./deadline.js";
import {
  type ChatModel,
  estimateTokens,
  type GenerateOptions,
  ModelError,
  type ModelEvent,
  type ModelInput,
} from "./types.js";
import { errorDetail, isRecord } from "./upstream.js";

export interface CmlModelConfig {
  /** https://modelservice.<workspace-domain>/model */
  url: string;
  accessKey: string;
  /** A CML API key, sent as Bearer when the model has authentication enabled. */
  apiKey?: string;
  /** Whole-call timeout (default 120 s: a 7B model on one GPU is slow and does not stream). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function createCmlModel(config: CmlModelConfig): ChatModel {
  return {
    id: "cml",
    describe: () => `CML model endpoint ${new URL(config.url).host}`,
    stream: (input, options) => streamCml(config, input, options),
  };
}

/**
 * Mistral-Instruct format: `<s>[INST] … [/INST]` per user turn, the answer after it, `</s>` closing each
 * answered turn. There is no system role: the instructions go into the first [INST].
 */
export function mistralPrompt(input: ModelInput): string {
  let prompt = "<s>";
  let first = true;
  for (const message of input.messages) {
    if (message.role === "user") {
      const content = first ? `${input.system}\n\n${message.content}` : message.content;
      prompt += `[INST] ${content} [/INST]`;
      first = false;
    } else {
      prompt += ` ${message.content}</s>`;
    }
  }
  return prompt;
}

async function* streamCml(
  config: CmlModelConfig,
  input: ModelInput,
  options: GenerateOptions,
): AsyncIterable<ModelEvent> {
  const deadline = new CallDeadline(options.signal, config.timeoutMs ?? 120_000, "the CML model endpoint");
  const secrets = [config.accessKey, config.apiKey];
  const prompt = mistralPrompt(input);
  let answer: string;
  try {
    const response = await (config.fetch ?? fetch)(config.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
      },
      body: JSON.stringify({
        accessKey: config.accessKey,
        request: { prompt, temperature: options.temperature, max_new_tokens: Math.round(options.maxTokens) },
      }),
      signal: deadline.signal,
    });
    if (!response.ok) {
      throw new ModelError(
        response.status === 401 || response.status === 403 ? "auth" : "upstream",
        `the CML model endpoint answered ${response.status} ${response.statusText}${await errorDetail(response, secrets)}`,
      );
    }
    const body: unknown = await response.json().catch(() => undefined);
    answer = stripPrompt(readPrediction(body), prompt);
  } catch (error) {
    throw deadline.toError(error, secrets);
  } finally {
    deadline.done();
  }
  if (answer) yield { type: "delta", text: answer };
  yield { type: "usage", inputTokens: estimateTokens(prompt), outputTokens: estimateTokens(answer), estimated: true };
}

/**
 * The text the model function returned. CML wraps a function's result as `{success, response}` and, for
 * functions with metrics enabled, as `{response: {prediction: {response}}}`; a bare string also occurs.
 */
export function readPrediction(body: unknown): string {
  if (isRecord(body) && body.success === false) {
    const why = isRecord(body.response) && typeof body.response.message === "string" ? body.response.message : "";
    throw new ModelError("upstream", `the CML model reported a failure${why ? `: ${why.slice(0, 200)}` : ""}`);
  }
  let value: unknown = body;
  for (let depth = 0; depth < 4; depth++) {
    if (typeof value === "string") return value;
    if (!isRecord(value)) break;
    value = value.prediction ?? value.response;
  }
  throw new ModelError("upstream", "the CML model answered without a `response` text");
}

export function stripPrompt(text: string, prompt: string): string {
  const end = text.lastIndexOf("[/INST]");
  if (end >= 0) return text.slice(end + "[/INST]".length).trim();
  const bare = prompt.replace(/<\/?s>/g, "");
  return (text.startsWith(bare) ? text.slice(bare.length) : text).trim();
}
