import { delay, HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { createCmlModel, mistralPrompt } from "../../src/workloads/llm/cml.js";
import { createOpenAiModel } from "../../src/workloads/llm/openai.js";
import { buildModelInput } from "../../src/workloads/llm/prompt.js";
import { type ChatModel, isModelError, type ModelEvent } from "../../src/workloads/llm/types.js";
import { useMswServer } from "../client/msw.js";
import { CANARY, sources } from "./fixtures.js";

const server = useMswServer();
const OPENAI = "https://caii.example/namespaces/serving-default/endpoints/llama/v1";
const CML_URL = "https://modelservice.ml-test.example/model";
const input = buildModelInput("How do for loops work?", sources());

async function run(model: ChatModel, options: { signal?: AbortSignal; maxTokens?: number } = {}) {
  const events: ModelEvent[] = [];
  try {
    for await (const e of model.stream(input, {
      temperature: 0.2,
      maxTokens: options.maxTokens ?? 256,
      ...(options.signal ? { signal: options.signal } : {}),
    })) {
      events.push(e);
    }
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

function sseBody(chunks: string[], { failAfter, stallAfter }: { failAfter?: number; stallAfter?: number } = {}) {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      for (const [i, chunk] of chunks.entries()) {
        if (i === failAfter) {
          controller.error(new Error("socket hang up"));
          return;
        }
        if (i === stallAfter) return; // never closes
        controller.enqueue(encoder.encode(chunk));
        await delay(1);
      }
      controller.close();
    },
  });
}

const chunk = (content: string) =>
  `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] })}\n\n`;

describe("OpenAI-compatible back-end", () => {
  const model = (timeoutMs?: number) =>
    createOpenAiModel({
      baseUrl: `${OPENAI}/`,
      model: "meta/llama-3.1-8b-instruct",
      apiKey: CANARY,
      ...(timeoutMs ? { timeoutMs } : {}),
    });

  it("streams deltas and reports the server's usage; sends Bearer, stream:true and plain chat messages", async () => {
    let seen: { auth: string | null; body: unknown } = { auth: null, body: null };
    server.use(
      http.post(`${OPENAI}/chat/completions`, async ({ request }) => {
        seen = { auth: request.headers.get("authorization"), body: await request.json() };
        return new HttpResponse(
          sseBody([
            chunk("For loops "),
            chunk("iterate [1]."),
            `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\r\n\r\n`,
            `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 120, completion_tokens: 6 } })}\n\n`,
            "data: [DONE]\n\n",
          ]),
          { headers: { "content-type": "text/event-stream" } },
        );
      }),
    );
    const { events, error } = await run(model());
    expect(error).toBeUndefined();
    expect(events).toEqual([
      { type: "delta", text: "For loops " },
      { type: "delta", text: "iterate [1]." },
      { type: "usage", inputTokens: 120, outputTokens: 6, estimated: false, stopReason: "stop" },
    ]);
    expect(seen.auth).toBe(`Bearer ${CANARY}`);
    expect(seen.body).toMatchObject({
      model: "meta/llama-3.1-8b-instruct",
      stream: true,
      temperature: 0.2,
      max_tokens: 256,
    });
    expect(JSON.stringify(seen.body)).not.toContain("[INST]");
  });

  it("turns a mid-stream failure into a ModelError after the deltas already sent", async () => {
    server.use(
      http.post(
        `${OPENAI}/chat/completions`,
        () => new HttpResponse(sseBody([chunk("Partial "), chunk("answer"), chunk("x")], { failAfter: 2 })),
      ),
    );
    const { events, error } = await run(model());
    expect(events.map((e) => e.type)).toEqual(["delta", "delta"]);
    expect(isModelError(error) && error.kind).toBe("upstream");
  });

  it("turns an error chunk and an HTTP error into ModelErrors without the key", async () => {
    server.use(
      http.post(
        `${OPENAI}/chat/completions`,
        () => new HttpResponse(sseBody([chunk("a"), `data: {"error":{"message":"model overloaded"}}\n\n`])),
      ),
    );
    const first = await run(model());
    expect(isModelError(first.error) && first.error.message).toMatch(/model overloaded/);
    server.use(
      http.post(`${OPENAI}/chat/completions`, () =>
        HttpResponse.json(
          { error: { message: `invalid token ${CANARY}` } },
          { status: 401, statusText: "Unauthorized" },
        ),
      ),
    );
    const second = await run(model());
    expect(isModelError(second.error) && second.error.kind).toBe("auth");
    expect(String(second.error)).toMatch(/401/);
    expect(String(second.error)).not.toContain(CANARY);
  });

  it("times out a stalled stream instead of hanging", async () => {
    server.use(
      http.post(
        `${OPENAI}/chat/completions`,
        () => new HttpResponse(sseBody([chunk("a"), chunk("b")], { stallAfter: 1 })),
      ),
    );
    const started = Date.now();
    const { events, error } = await run(model(150));
    expect(events).toEqual([{ type: "delta", text: "a" }]);
    expect(isModelError(error) && error.kind).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("stops when the caller aborts", async () => {
    server.use(
      http.post(
        `${OPENAI}/chat/completions`,
        () => new HttpResponse(sseBody([chunk("a"), chunk("b")], { stallAfter: 1 })),
      ),
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const { error } = await run(model(10_000), { signal: controller.signal });
    expect(isModelError(error) && error.kind).toBe("aborted");
  });
});

describe("CML model endpoint back-end", () => {
  const model = (extra: { apiKey?: string; timeoutMs?: number } = {}) =>
    createCmlModel({ url: CML_URL, accessKey: CANARY, ...extra });

  it("sends the CML contract with a Mistral prompt and strips the echoed prompt", async () => {
    let body: unknown;
    let auth: string | null = "unset";
    server.use(
      http.post(CML_URL, async ({ request }) => {
        body = await request.json();
        auth = request.headers.get("authorization");
        const prompt = mistralPrompt(input).replace(/<\/?s>/g, "");
        return HttpResponse.json({
          success: true,
          response: { prediction: { response: `${prompt} For loops iterate [1].`, response_time_s: 1.2 } },
        });
      }),
    );
    const { events, error } = await run(model(), { maxTokens: 300 });
    expect(error).toBeUndefined();
    expect(events[0]).toEqual({ type: "delta", text: "For loops iterate [1]." });
    expect(events[1]?.type).toBe("usage");
    expect(auth).toBeNull();
    expect(body).toMatchObject({ accessKey: CANARY, request: { temperature: 0.2, max_new_tokens: 300 } });
    const prompt = JSON.stringify(body);
    expect(prompt).toMatch(/^\{"accessKey".*"prompt":"<s>\[INST\] You are a helpful assistant/);
    expect(prompt).toMatch(/Question: How do for loops work\? \[\/INST\]"/);
  });

  it("accepts the flat {success, response} envelope and sends Bearer when auth is on", async () => {
    let auth: string | null = null;
    server.use(
      http.post(CML_URL, ({ request }) => {
        auth = request.headers.get("authorization");
        return HttpResponse.json({ success: true, response: "[INST] q [/INST] Flat answer." });
      }),
    );
    const { events } = await run(model({ apiKey: `${CANARY}-api` }));
    expect(events[0]).toEqual({ type: "delta", text: "Flat answer." });
    expect(auth).toBe(`Bearer ${CANARY}-api`);
  });

  it("reports failures and timeouts without the access key", async () => {
    server.use(
      http.post(CML_URL, () => HttpResponse.json({ success: false, response: { message: "model is not running" } })),
    );
    const failed = await run(model());
    expect(isModelError(failed.error) && failed.error.message).toMatch(/model is not running/);
    server.use(
      http.post(CML_URL, () => new HttpResponse(`bad accessKey ${CANARY}`, { status: 403, statusText: "Forbidden" })),
    );
    const denied = await run(model());
    expect(isModelError(denied.error) && denied.error.kind).toBe("auth");
    expect(String(denied.error)).not.toContain(CANARY);
    server.use(
      http.post(CML_URL, async () => {
        await delay("infinite");
        return HttpResponse.json({});
      }),
    );
    const slow = await run(model({ timeoutMs: 100 }));
    expect(isModelError(slow.error) && slow.error.kind).toBe("timeout");
  });
});
