/**
 * Issue 18 part 2: Titan Text Embeddings v2 against a local server speaking Bedrock Runtime's InvokeModel
 * (test/helpers/bedrock-wire.ts), through the product's own client, pointed at it by
 * AWS_ENDPOINT_URL_BEDROCK_RUNTIME with dummy credentials: the request body Bedrock expects, the answer parsed,
 * throttling retried, refusals as one line in `cml-lab ingest` and `cml-lab query`.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { isUserError } from "../../src/shared/errors.js";
import { createBedrockEmbedder, TITAN_V2 } from "../../src/workloads/rag/embedders/bedrock.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import {
  awsEnv,
  BEDROCK_ERRORS,
  type BedrockWire,
  startBedrockWire,
  stubEnv,
  type WireReply,
  type WireRequest,
} from "../helpers/bedrock-wire.js";
import { bufferIo } from "../helpers/buffer-io.js";

/** Titan as a stand-in: a deterministic vector of the requested size for the text sent (the hash embedder's). */
const hash = createHashEmbedder({ dim: 256 });
async function titan(request: WireRequest): Promise<WireReply> {
  const body = request.body as { inputText: string; dimensions: number };
  const embedding = Array.from(await createHashEmbedder({ dim: body.dimensions }).embedQuery(body.inputText));
  return { json: { embedding, inputTextTokenCount: body.inputText.split(/\s+/).length } };
}
const titanTimes = (n: number) => Array.from({ length: n }, () => titan);

/** `cml-lab ingest run` of the corpus into `dataDir` with Titan at 256 dimensions. */
const ingestArgv = (dataDir: string) => [
  "ingest",
  "run",
  "--dir",
  "corpus",
  "--data-dir",
  dataDir,
  "--embedder",
  "bedrock",
  "--embedding-dim",
  "256",
];

const page = (title: string, body: string) =>
  `<!doctype html><html><head><title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;

describe("Titan Text Embeddings v2 on the wire (InvokeModel)", () => {
  let wire: BedrockWire;
  beforeAll(async () => {
    wire = await startBedrockWire();
  });
  beforeEach(() => {
    stubEnv(awsEnv(wire.url));
    wire.reset();
  });
  afterEach(() => vi.unstubAllEnvs());
  afterAll(() => wire?.close());

  it("sends {inputText, dimensions, normalize} signed to /model/…/invoke and reads the embedding back", async () => {
    wire.reply(titan, titan);
    const embedder = createBedrockEmbedder({ dim: 256, region: "us-west-2" });
    const long = "word ".repeat(12_000);
    const [first, second] = await embedder.embedDocuments(["How do for loops iterate?", long]);
    expect(first).toEqual(await hash.embedQuery("How do for loops iterate?"));
    expect(second).toHaveLength(256);

    expect(wire.requests).toHaveLength(2);
    for (const request of wire.requests) {
      expect(request).toMatchObject({ method: "POST", operation: "invoke", modelId: TITAN_V2 });
      expect(request.path).toBe("/model/amazon.titan-embed-text-v2%3A0/invoke");
      expect(request.headers["content-type"]).toBe("application/json");
      expect(request.headers.accept).toBe("application/json");
      expect(request.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDWIRETEST\/\d{8}\/us-west-2\/bedrock\/aws4_request, /,
      );
    }
    const bodies = wire.requests.map((r) => r.body as { inputText: string });
    const short = bodies.find((b) => b.inputText.startsWith("How"));
    expect(short).toEqual({ inputText: "How do for loops iterate?", dimensions: 256, normalize: true });
    // Titan v2 takes at most 50,000 characters (src/workloads/FACTS.md §B4).
    expect(bodies.find((b) => b !== short)?.inputText).toHaveLength(50_000);
  });

  it("a throttled call (429 ThrottlingException) is retried by the SDK, then answers", async () => {
    wire.reply({ error: BEDROCK_ERRORS.throttled }, titan);
    const vector = await createBedrockEmbedder({ dim: 256, region: "us-west-2" }).embedQuery("range");
    expect(vector).toHaveLength(256);
    expect(wire.requests).toHaveLength(2);
  });

  it.each([
    [
      BEDROCK_ERRORS.accessDenied,
      `Amazon Bedrock: access denied to model ${TITAN_V2} in us-west-2 (enable the model in the Bedrock console and check the IAM policy)`,
    ],
    [
      BEDROCK_ERRORS.invalidModel,
      `Amazon Bedrock: model ${TITAN_V2} in us-west-2: The provided model identifier is invalid. (check AWS_REGION: Titan Text Embeddings v2 is not in every region)`,
    ],
  ])("a refusal (%j) is a UserError of one line, asked once", async (error, line) => {
    wire.reply({ error });
    const failure = await createBedrockEmbedder({ dim: 256, region: "us-west-2" })
      .embedQuery("range")
      .catch((e: unknown) => e);
    expect(isUserError(failure)).toBe(true);
    expect((failure as Error).message).toBe(line);
    expect(wire.requests).toHaveLength(1);
  });

  describe("through the CLI", () => {
    let cwd = "";
    beforeAll(() => {
      cwd = mkdtempSync(join(tmpdir(), "titan-wire-"));
      mkdirSync(join(cwd, "corpus"));
      writeFileSync(
        join(cwd, "corpus", "loops.html"),
        page("Loops", "<h2>for</h2><p>A for loop iterates over the items of a sequence, in order.</p>"),
      );
      writeFileSync(
        join(cwd, "corpus", "errors.html"),
        page("Errors", "<h2>try</h2><p>The try statement catches an exception; finally runs at the end.</p>"),
      );
    });

    it("ingest embeds every chunk through Bedrock and query embeds the question the same way", async () => {
      wire.reply(...titanTimes(20));
      const run = bufferIo(process.env, cwd);
      const argv = ingestArgv("data");
      expect(await main(argv, run.io), run.out.stderr).toBe(0);
      const indexed = wire.requests.length;
      expect(indexed).toBeGreaterThanOrEqual(2);

      const ask = bufferIo(process.env, cwd);
      const query = ["query", "--data-dir", "data", "--store", "local", "--json", "What does a for loop iterate over?"];
      expect(await main(query, ask.io), ask.out.stderr).toBe(0);
      expect(wire.requests.length).toBe(indexed + 1);
      expect(wire.requests.at(-1)?.body).toEqual({
        inputText: "What does a for loop iterate over?",
        dimensions: 256,
        normalize: true,
      });
      expect(JSON.parse(ask.out.stdout).sources[0]?.title).toBe("Loops");
    });

    it("a refusal during ingest is one line and exit 1, not an internal error", async () => {
      wire.reply(...Array.from({ length: 20 }, () => ({ error: BEDROCK_ERRORS.accessDenied })));
      const run = bufferIo(process.env, cwd);
      const argv = ingestArgv("denied");
      expect(await main(argv, run.io)).toBe(1);
      expect(run.out.stderr).toBe(
        `error: Amazon Bedrock: access denied to model ${TITAN_V2} in us-west-2 (enable the model in the Bedrock console and check the IAM policy)\n`,
      );
    });
  });
});
