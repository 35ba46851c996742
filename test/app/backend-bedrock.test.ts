import {
  BedrockRuntimeClient,
  ConverseStreamCommand,
  type ConverseStreamOutput,
  ThrottlingException,
} from "@aws-sdk/client-bedrock-runtime";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { bedrockRegion, createBedrockModel } from "../../src/workloads/llm/bedrock.js";
import { buildModelInput } from "../../src/workloads/llm/prompt.js";
import { isModelError, type ModelEvent } from "../../src/workloads/llm/types.js";
import { CANARY, sources } from "./fixtures.js";

const bedrock = mockClient(BedrockRuntimeClient);
afterEach(() => bedrock.reset());

const history = [
  { role: "user" as const, content: "What is a for loop?" },
  { role: "assistant" as const, content: "It iterates [1]." },
];
const input = buildModelInput("And range?", sources(), history);

async function* events(items: ConverseStreamOutput[], options: { failAt?: number; stallAt?: number } = {}) {
  for (const [i, item] of items.entries()) {
    if (i === options.failAt) throw Object.assign(new Error("connection reset"), { name: "ModelStreamErrorException" });
    if (i === options.stallAt) await new Promise(() => {});
    yield item;
  }
}

const okStream = (): ConverseStreamOutput[] => [
  { messageStart: { role: "assistant" } },
  { contentBlockDelta: { contentBlockIndex: 0, delta: { text: "range() makes " } } },
  { contentBlockDelta: { contentBlockIndex: 0, delta: { text: "numbers [1]." } } },
  { contentBlockStop: { contentBlockIndex: 0 } },
  { messageStop: { stopReason: "end_turn" } },
  { metadata: { usage: { inputTokens: 321, outputTokens: 9, totalTokens: 330 }, metrics: { latencyMs: 400 } } },
];

async function run(options: { signal?: AbortSignal; timeoutMs?: number } = {}) {
  const model = createBedrockModel({
    modelId: "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    region: "us-west-2",
    client: new BedrockRuntimeClient({
      region: "us-west-2",
      credentials: { accessKeyId: "AKIA-test", secretAccessKey: CANARY },
    }),
    secrets: [CANARY],
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  const out: ModelEvent[] = [];
  try {
    for await (const e of model.stream(input, {
      temperature: 0.3,
      maxTokens: 512,
      ...(options.signal ? { signal: options.signal } : {}),
    }))
      out.push(e);
    return { out, error: undefined };
  } catch (error) {
    return { out, error };
  }
}

describe("Bedrock ConverseStream back-end", () => {
  it("sends system + alternating messages + temperature only, and streams deltas then usage", async () => {
    bedrock.on(ConverseStreamCommand).resolves({ stream: events(okStream()) });
    const { out, error } = await run();
    expect(error).toBeUndefined();
    expect(out).toEqual([
      { type: "delta", text: "range() makes " },
      { type: "delta", text: "numbers [1]." },
      { type: "usage", inputTokens: 321, outputTokens: 9, estimated: false, stopReason: "end_turn" },
    ]);
    const sent = bedrock.commandCalls(ConverseStreamCommand)[0]?.args[0].input;
    expect(sent?.modelId).toBe("us.anthropic.claude-haiku-4-5-20251001-v1:0");
    expect(sent?.system).toEqual([{ text: input.system }]);
    expect(sent?.messages?.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(sent?.inferenceConfig).toEqual({ maxTokens: 512, temperature: 0.3 });
    expect(sent?.inferenceConfig).not.toHaveProperty("topP");
  });

  it("turns exceptions delivered as stream events and thrown mid-stream into ModelErrors", async () => {
    bedrock.on(ConverseStreamCommand).resolves({
      stream: events([
        { contentBlockDelta: { contentBlockIndex: 0, delta: { text: "range() makes " } } },
        { throttlingException: new ThrottlingException({ message: "Too many requests", $metadata: {} }) },
      ]),
    });
    const first = await run();
    expect(first.out).toHaveLength(1);
    expect(isModelError(first.error) && first.error.message).toMatch(/Too many requests/);

    bedrock.on(ConverseStreamCommand).resolves({ stream: events(okStream(), { failAt: 2 }) });
    const second = await run();
    expect(second.out).toHaveLength(1);
    expect(isModelError(second.error) && second.error.kind).toBe("upstream");
  });

  it("maps access errors to a hint and never leaks credentials", async () => {
    bedrock
      .on(ConverseStreamCommand)
      .rejects(Object.assign(new Error(`denied for ${CANARY}`), { name: "AccessDeniedException" }));
    const denied = await run();
    expect(isModelError(denied.error) && denied.error.kind).toBe("auth");
    expect(String(denied.error)).toMatch(/enable the model/);
    bedrock
      .on(ConverseStreamCommand)
      .rejects(
        Object.assign(new Error(`Signature mismatch Credential=${CANARY}/x`), { name: "InvalidSignatureException" }),
      );
    const signature = await run();
    expect(String(signature.error)).not.toContain(CANARY);
  });

  it("times out a stalled stream and honours abort", async () => {
    bedrock.on(ConverseStreamCommand).resolves({ stream: events(okStream(), { stallAt: 2 }) });
    const slow = await run({ timeoutMs: 100 });
    expect(slow.out).toHaveLength(1);
    expect(isModelError(slow.error) && slow.error.kind).toBe("timeout");

    bedrock.on(ConverseStreamCommand).resolves({ stream: events(okStream(), { stallAt: 2 }) });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const stopped = await run({ signal: controller.signal, timeoutMs: 10_000 });
    expect(isModelError(stopped.error) && stopped.error.kind).toBe("aborted");
  });

  it("resolves the region from AWS_REGION, then AWS_DEFAULT_REGION (which the JS SDK ignores)", () => {
    expect(bedrockRegion({ AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "us-east-1" })).toBe("eu-west-1");
    expect(bedrockRegion({ AWS_DEFAULT_REGION: "us-east-1" })).toBe("us-east-1");
    expect(bedrockRegion({})).toBe("us-west-2");
  });
});
