/**
 * Issue 18 part 2: the Bedrock chat back-end against a local server speaking Bedrock Runtime's wire protocol
 * (test/helpers/bedrock-wire.ts), through the product's own client (llm/registry → createBedrockClient) pointed
 * at it by AWS_ENDPOINT_URL_BEDROCK_RUNTIME with dummy credentials: request serialisation and signing, the
 * event-stream framing, the SDK's error mapping and retries, what the chat app and `cml-lab query` show.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { type RunningChatServer, startChatServer } from "../../src/workloads/app/listen.js";
import { storeChoices } from "../../src/workloads/app/stores.js";
import {
  answerEvents,
  awsEnv,
  BEDROCK_ERRORS,
  type BedrockWire,
  startBedrockWire,
  stubEnv,
} from "../helpers/bedrock-wire.js";
import { bufferIo } from "../helpers/buffer-io.js";
import { CANARY, fixedRetriever } from "./fixtures.js";
import { postChat, type SseEvent, validBody } from "./sse-client.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

/** The environment a user sets for the chat back-end, pointed at `url`. */
function bedrockEnv(url: string): Record<string, string> {
  return {
    ...awsEnv(url),
    AWS_SECRET_ACCESS_KEY: CANARY,
    CML_LAB_BEDROCK_MODEL_ID: MODEL,
    // Far beyond any test's time: an answer that ends must end by itself, not by the idle timeout.
    CML_LAB_MODEL_TIMEOUT_MS: "600000",
  };
}

/**
 * Lock-step between the server and the app's client: `after(n)` holds the server's stream until the client has
 * seen n deltas. If anything between them buffered the answer, the client would never see delta n while the
 * server waits; after 10 s the wait gives up and says so in `stalls`, so the test fails instead of hanging.
 */
function lockStep() {
  let seen = 0;
  const waiting: { n: number; resolve: () => void }[] = [];
  const stalls: string[] = [];
  return {
    stalls,
    onEvent: (event: SseEvent) => {
      if (event.event !== "delta") return;
      seen++;
      for (const w of waiting.filter((w) => w.n <= seen)) w.resolve();
    },
    after: (n: number): { until: Promise<void> } => ({
      until: new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          stalls.push(`the client had seen ${seen} deltas when delta ${n + 1} was due, not ${n}`);
          resolve();
        }, 10_000);
        waiting.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        if (seen >= n) waiting.at(-1)?.resolve();
      }),
    }),
  };
}

const ask = (env: NodeJS.ProcessEnv) => {
  const { io, out } = bufferIo(env, tmpdir());
  return main(["query", "--store", "none", "--model", "bedrock", "What is a runtime?"], io).then((code) => ({
    code,
    ...out,
  }));
};

const summary = (events: SseEvent[]) => events.map((e) => (e.event === "delta" ? `delta:${e.data.text}` : e.event));

describe("Bedrock ConverseStream on the wire (HTTP/2, the SDK's own handler)", () => {
  let wire: BedrockWire;
  let app: RunningChatServer;

  beforeAll(async () => {
    wire = await startBedrockWire();
    stubEnv(bedrockEnv(wire.url));
    app = await startChatServer({
      port: 0,
      env: process.env,
      stores: storeChoices(process.env, true),
      openRetriever: async (store) => (store === "local" ? fixedRetriever() : { unavailable: "not here" }),
    });
  });
  beforeEach(() => {
    stubEnv(bedrockEnv(wire.url));
    wire.requests.length = 0;
  });
  afterEach(() => vi.unstubAllEnvs());
  afterAll(async () => {
    await app?.close();
    await wire?.close();
  });

  it("a streamed answer reaches the app's client delta by delta, in order, from a signed, well-formed request", async () => {
    const step = lockStep();
    wire.reply({ stream: answerEvents(["A for loop ", step.after(1), "iterates over ", step.after(2), "items [1]."]) });
    const { status, events } = await postChat(app.url, { ...validBody, model: "bedrock" }, { onEvent: step.onEvent });
    expect(step.stalls).toEqual([]);
    expect(status).toBe(200);
    expect(summary(events)).toEqual([
      "sources",
      "delta:A for loop ",
      "delta:iterates over ",
      "delta:items [1].",
      "usage",
      "done",
    ]);
    expect(events.find((e) => e.event === "usage")?.data).toMatchObject({
      model: "bedrock",
      inputTokens: 321,
      outputTokens: 9,
      estimated: false,
      stopReason: "end_turn",
    });
    expect(events.at(-1)?.data).toEqual({ cited: [1] });

    const [request] = wire.requests;
    expect(wire.requests).toHaveLength(1);
    expect(request).toMatchObject({ method: "POST", operation: "converse-stream", modelId: MODEL, httpVersion: "2.0" });
    expect(request?.path).toBe(`/model/${encodeURIComponent(MODEL)}/converse-stream`);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDWIRETEST\/\d{8}\/us-west-2\/bedrock\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/,
    );
    const body = request?.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["inferenceConfig", "messages", "system"]);
    expect(body.inferenceConfig).toEqual({ maxTokens: validBody.maxTokens, temperature: validBody.temperature });
    // The instructions go in `system`; the one user turn carries the numbered sources and the question.
    expect(body.system).toEqual([{ text: expect.stringMatching(/^You are a helpful assistant/) }]);
    expect(body.messages).toEqual([
      { role: "user", content: [{ text: expect.stringMatching(/\[1\][\s\S]*How do for loops iterate\?/) }] },
    ]);
  });

  it("a Bedrock API key alone (AWS_BEARER_TOKEN_BEDROCK, no access keys) is enough: sent as a bearer token", async () => {
    const env = bedrockEnv(wire.url);
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    stubEnv({ ...env, AWS_BEARER_TOKEN_BEDROCK: "ABSKbedrock-api-key-wire-test" });
    vi.stubEnv("AWS_ACCESS_KEY_ID", undefined);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", undefined);
    wire.reply({ stream: answerEvents(["Keys ", "work."]) });
    const result = await ask(process.env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Keys work.");
    expect(wire.requests[0]?.headers.authorization).toBe("Bearer ABSKbedrock-api-key-wire-test");
    // Never in what the user sees.
    expect(result.stdout).not.toContain("ABSKbedrock-api-key-wire-test");
  });

  it("a throttled request (429 ThrottlingException) is retried by the SDK, then answers", async () => {
    wire.reply({ error: BEDROCK_ERRORS.throttled }, { stream: answerEvents(["Runtimes ", "are images."]) });
    const result = await ask(process.env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Runtimes are images.");
    expect(wire.requests.map((r) => r.operation)).toEqual(["converse-stream", "converse-stream"]);
  });

  const refusals = [
    [
      "access denied",
      BEDROCK_ERRORS.accessDenied,
      `Amazon Bedrock: access denied to model ${MODEL} in us-west-2 (enable the model in the Bedrock console and check the IAM policy)`,
    ],
    [
      "an unknown model id",
      BEDROCK_ERRORS.invalidModel,
      `Amazon Bedrock: model ${MODEL} in us-west-2: The provided model identifier is invalid. (check CML_LAB_BEDROCK_MODEL_ID and AWS_REGION)`,
    ],
    [
      "a model past its end of life",
      BEDROCK_ERRORS.endOfLife,
      `Amazon Bedrock: model ${MODEL} is not available in us-west-2: ${BEDROCK_ERRORS.endOfLife.message} (check CML_LAB_BEDROCK_MODEL_ID and AWS_REGION)`,
    ],
  ] as const;

  it.each(refusals)("%s is one line in cml-lab query and in the app, asked once", async (_what, error, line) => {
    wire.reply({ error });
    const result = await ask(process.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: ${line}\n`);
    expect(wire.requests).toHaveLength(1);

    wire.reply({ error });
    const { events } = await postChat(app.url, { ...validBody, model: "bedrock" });
    expect(summary(events)).toEqual(["sources", "error"]);
    expect(events.at(-1)?.data).toEqual({ message: line });
  });

  it("a stream cut after two deltas ends the answer with an error event, not a hang or a finished answer", async () => {
    const step = lockStep();
    wire.reply({
      stream: [...answerEvents(["A for loop ", "iterates "]).slice(0, 3), step.after(2), { cut: true }],
    });
    const { events } = await postChat(app.url, { ...validBody, model: "bedrock" }, { onEvent: step.onEvent });
    expect(step.stalls).toEqual([]);
    expect(summary(events)).toEqual(["sources", "delta:A for loop ", "delta:iterates ", "error"]);
    expect(events.at(-1)?.data).toEqual({
      message: "Amazon Bedrock: the answer was cut off (the stream ended before the model finished); try again",
    });
  });

  it("a body that ends cleanly before messageStop (a proxy closing it) is an error too", async () => {
    wire.reply({ stream: [...answerEvents(["A for loop "]).slice(0, 2), { end: true }] });
    const { events } = await postChat(app.url, { ...validBody, model: "bedrock" });
    expect(summary(events)).toEqual(["sources", "delta:A for loop ", "error"]);
  });

  it("an exception frame mid-stream ends the answer with Bedrock's message", async () => {
    wire.reply({
      stream: [
        ...answerEvents(["A for loop "]).slice(0, 2),
        { exception: "modelStreamErrorException", message: "The model stream failed." },
      ],
    });
    const { events } = await postChat(app.url, { ...validBody, model: "bedrock" });
    expect(summary(events)).toEqual(["sources", "delta:A for loop ", "error"]);
    expect(events.at(-1)?.data).toEqual({ message: "Amazon Bedrock: The model stream failed." });
  });

  it("the real bin prints one line for a refusal: no stack, no SDK warning", async () => {
    wire.reply({ error: BEDROCK_ERRORS.accessDenied });
    const failure = await promisify(execFile)(
      process.execPath,
      [join(root, "bin/cml-lab.js"), "query", "--store", "none", "--model", "bedrock", "What is a runtime?"],
      { env: { PATH: process.env.PATH, HOME: tmpdir(), ...bedrockEnv(wire.url) } },
    ).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toBe(`error: ${refusals[0][2]}\n`);
  });
});

describe("Bedrock ConverseStream on the wire (HTTP/1.1, outbound's handler for a proxy or an extra CA)", () => {
  let wire: BedrockWire;
  beforeAll(async () => {
    wire = await startBedrockWire({ http: 1 });
  });
  afterEach(() => vi.unstubAllEnvs());
  afterAll(() => wire?.close());

  it("a stream cut after two deltas ends the answer with an error event", async () => {
    // Any extra CA makes src/shared/outbound.ts give the SDK its HTTP/1.1 handler, as on a corporate network.
    const bundle = join(mkdtempSync(join(tmpdir(), "cml-lab-ca-")), "ca.pem");
    writeFileSync(bundle, rootCertificates[0] ?? "");
    stubEnv({ ...bedrockEnv(wire.url), CML_LAB_CA_BUNDLE: bundle });
    const app = await startChatServer({
      port: 0,
      env: process.env,
      stores: storeChoices(process.env, true),
      openRetriever: async () => fixedRetriever(),
    });
    try {
      const step = lockStep();
      wire.reply({
        stream: [...answerEvents(["A for loop ", "iterates "]).slice(0, 3), step.after(2), { cut: true }],
      });
      const { events } = await postChat(app.url, { ...validBody, model: "bedrock" }, { onEvent: step.onEvent });
      expect(step.stalls).toEqual([]);
      expect(wire.requests.map((r) => r.httpVersion)).toEqual(["1.1"]);
      expect(summary(events)).toEqual(["sources", "delta:A for loop ", "delta:iterates ", "error"]);
      expect(events.at(-1)?.data).toEqual({
        message: "Amazon Bedrock: the answer was cut off (aborted, ECONNRESET); try again",
      });
    } finally {
      await app.close();
    }
  });
});
