import { createServer, type Server } from "node:http";
import { BedrockRuntimeClient, InvokeModelCommand } from "@aws-sdk/client-bedrock-runtime";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBedrockEmbedder } from "../../src/workloads/rag/embedders/bedrock.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import { createOpenAiEmbedder } from "../../src/workloads/rag/embedders/openai.js";

const CANARY = "sk-canary-4f1d2b";

describe("hash embedder", () => {
  it("is deterministic, L2-normalised and closer for related text", async () => {
    const embedder = createHashEmbedder({ dim: 256 });
    const [a, b, c] = await embedder.embedDocuments([
      "caching function results",
      "cache the results of functions",
      "zebra",
    ]);
    const norm = (v: Float32Array) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
    const dot = (x: Float32Array, y: Float32Array) => x.reduce((sum, value, i) => sum + value * (y[i] ?? 0), 0);
    expect(norm(a ?? new Float32Array())).toBeCloseTo(1, 5);
    expect(await embedder.embedQuery("caching function results")).toEqual(a);
    expect(dot(a ?? new Float32Array(), b ?? new Float32Array())).toBeGreaterThan(
      dot(a ?? new Float32Array(), c ?? new Float32Array()) + 0.2,
    );
  });
});

// A fake OpenAI-compatible server: real HTTP, answers batches, fails the first call with 429.
describe("OpenAI-compatible embedder", () => {
  let server: Server;
  let base = "";
  const batches: number[] = [];
  let calls = 0;
  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        calls++;
        if (calls === 1) return void response.writeHead(429, { "retry-after": "0" }).end();
        if (request.headers.authorization !== `Bearer ${CANARY}`) return void response.writeHead(401).end();
        const parsed = JSON.parse(body);
        if (parsed.model === "broken") return void response.writeHead(400).end("bad model");
        batches.push(parsed.input.length);
        // Out of order on purpose: the client must place vectors by index.
        const data = parsed.input
          .map((text: string, index: number) => ({ index, embedding: [text.length, 1, 0] }))
          .reverse();
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data }));
      });
    });
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it("batches, retries a 429, keeps input order and never puts the key in errors", async () => {
    const embedder = createOpenAiEmbedder({ baseUrl: base, apiKey: CANARY, model: "m", dim: 3, batchSize: 2 });
    const vectors = await embedder.embedDocuments(["a", "bbb", "cc", "dddd", "e"]);
    expect(vectors.map((v) => Math.round((v[0] ?? 0) / (v[1] ?? 1)))).toEqual([1, 3, 2, 4, 1]);
    expect(batches.sort()).toEqual([1, 2, 2]);
    expect(embedder.id).toBe("openai:m:3");
    const broken = createOpenAiEmbedder({ baseUrl: `${base}/v1`, apiKey: CANARY, model: "broken", dim: 3 });
    const error = await broken.embedQuery("x").catch((e: unknown) => e);
    expect(String(error)).toMatch(/400: bad model/);
    expect(String(error)).not.toContain(CANARY);
  });
});

describe("Bedrock Titan v2 embedder", () => {
  it("sends one text per call with the dimension, bounded in flight, and checks the vector size", async () => {
    const mock = mockClient(BedrockRuntimeClient);
    let inFlight = 0;
    let peak = 0;
    const bodies: { inputText: string; dimensions: number; normalize: boolean }[] = [];
    mock.on(InvokeModelCommand).callsFake(async (input) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      bodies.push(JSON.parse(String(input.body)));
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return { body: new TextEncoder().encode(JSON.stringify({ embedding: new Array(256).fill(0.5) })) };
    });
    const embedder = createBedrockEmbedder({
      dim: 256,
      client: new BedrockRuntimeClient({ region: "us-east-1" }),
      concurrency: 2,
    });
    const vectors = await embedder.embedDocuments(["one", "two", "three", "four", "five"]);
    expect(vectors).toHaveLength(5);
    expect(peak).toBeLessThanOrEqual(2);
    expect(bodies.every((body) => body.dimensions === 256 && body.normalize)).toBe(true);
    expect(embedder.id).toBe("bedrock:amazon.titan-embed-text-v2:0:256");
    mock.on(InvokeModelCommand).callsFake(async () => ({
      body: new TextEncoder().encode(JSON.stringify({ embedding: [1, 2] })),
    }));
    await expect(embedder.embedQuery("x")).rejects.toThrow(/returned 2 values; expected 256/);
    expect(() => createBedrockEmbedder({ dim: 300 })).toThrow(/256, 512 or 1024/);
    mock.restore();
  });
});
