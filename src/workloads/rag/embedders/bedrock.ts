import type { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import pLimit from "p-limit";
import { UserError } from "../../../shared/errors.js";
import { shapeOf } from "../../../shared/json-shape.js";
import { bedrockClientOnce, bedrockRegion, bedrockSdk } from "../../llm/bedrock.js";
import { describeBedrockFailure } from "../../llm/bedrock-errors.js";
import { type Embedder, l2normalize } from "./embedder.js";

export const TITAN_V2 = "amazon.titan-embed-text-v2:0";
const TITAN_DIMS = [256, 512, 1024];
/** Titan's answer carries the vector under `embedding`; its length and numbers are checked where it is used. */
const hasEmbedding = shapeOf<{ embedding: unknown[] }>({
  type: "object",
  required: ["embedding"],
  properties: { embedding: { type: "array" } },
});

export interface BedrockEmbedderOptions {
  dim?: 256 | 512 | 1024 | number;
  region?: string;
  client?: BedrockRuntimeClient;
  /** Titan v2 embeds one text per call; this bounds the calls in flight. */
  concurrency?: number;
}

/**
 * Amazon Titan Text Embeddings v2 on Bedrock (credentials from the standard AWS chain): InvokeModel with
 * `{inputText, dimensions, normalize}`, one text per call, answering `{embedding, inputTextTokenCount}`
 * (src/workloads/FACTS.md §B4). A Bedrock refusal (access denied, no such model in the region, throttled
 * past the SDK's retries) is the user's to fix, so it is a UserError of one line, as the chat back-end says it.
 */
export function createBedrockEmbedder(options: BedrockEmbedderOptions = {}): Embedder {
  const dim = options.dim ?? 1024;
  if (!TITAN_DIMS.includes(dim)) throw new UserError(`Titan v2 supports dimensions 256, 512 or 1024, not ${dim}`);
  const region = options.region ?? bedrockRegion(process.env);
  const clientOnce = bedrockClientOnce(region, options.client);
  const call = {
    modelId: TITAN_V2,
    region,
    check: "check AWS_REGION: Titan Text Embeddings v2 is not in every region",
  };
  const limit = pLimit(options.concurrency ?? 4);
  // Titan v2 accepts up to 8,192 tokens or 50,000 characters.
  const maxChars = 50_000;
  const invoke = async (text: string, signal?: AbortSignal) => {
    const [client, { InvokeModelCommand }] = await Promise.all([clientOnce(), bedrockSdk()]);
    try {
      return await client.send(
        new InvokeModelCommand({
          modelId: TITAN_V2,
          contentType: "application/json",
          accept: "application/json",
          body: JSON.stringify({ inputText: text.slice(0, maxChars) || " ", dimensions: dim, normalize: true }),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      const failure = describeBedrockFailure(error, call);
      throw failure ? new UserError(failure.message, { cause: error }) : error;
    }
  };
  const embed = async (text: string, signal?: AbortSignal): Promise<Float32Array> => {
    const response = await invoke(text, signal);
    const parsed: unknown = JSON.parse(new TextDecoder().decode(response.body));
    const values = hasEmbedding(parsed) ? parsed.embedding : [];
    if (values.length !== dim || !values.every((v) => typeof v === "number")) {
      throw new Error(`${TITAN_V2} returned ${values.length} values; expected ${dim}`);
    }
    return l2normalize(Float32Array.from(values, Number));
  };
  return {
    id: `bedrock:${TITAN_V2}:${dim}`,
    dim,
    maxTokens: 8192,
    embedDocuments: (texts, signal) => Promise.all(texts.map((text) => limit(() => embed(text, signal)))),
    embedQuery: (text, signal) => embed(text, signal),
  };
}
