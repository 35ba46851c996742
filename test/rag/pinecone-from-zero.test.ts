/**
 * Issue 18 part 1: a user with a Pinecone key and nothing else. The populate job creates the manifest's index
 * when it is missing and waits until it is ready; an index of another shape stops it before any write; a query
 * reports the same mismatch. Against msw handlers written from Pinecone's control- and data-plane contracts.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { type DocsSite, startDocsSite } from "../../src/lab/docs-site.js";
import type { CliIo } from "../../src/shared/io.js";
import { SAMPLES } from "./helpers.js";
import { pineconeFake } from "./pinecone-fake.js";

const KEY = "pcsk_from_zero_key_3c1d";

function bufferIo(cwd: string, env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), isTTY: false, env, cwd };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}

describe("Pinecone from zero (a key and nothing else)", () => {
  const fake = pineconeFake(KEY, [
    { name: "minilm-era", dimension: 384 },
    { name: "dotty", dimension: 512, metric: "dotproduct" },
  ]);
  const server = setupServer(...fake.handlers);
  let site: DocsSite;
  const cwd = mkdtempSync(join(tmpdir(), "pinecone-zero-"));
  const env = (extra: Record<string, string> = {}) => ({ CML_LAB_DATA: "data", PINECONE_API_KEY: KEY, ...extra });

  beforeAll(async () => {
    site = await startDocsSite({ root: SAMPLES });
    // The docs site is a real local server; everything else must be one of the fake's handlers.
    server.listen({
      onUnhandledRequest: (request, print) => {
        if (new URL(request.url).hostname !== "127.0.0.1") print.error();
      },
    });
    const scrape = bufferIo(cwd, env());
    const links = `${site.url}/html_links.txt`;
    expect(await main(["ingest", "scrape", "--links", links, "--allow-private"], scrape.io), scrape.stderr()).toBe(0);
  });
  afterEach(() => {
    fake.calls.length = 0;
  });
  afterAll(async () => {
    server.close();
    await site?.close();
  });

  const index = async (extra: Record<string, string>, ...flags: string[]) => {
    const run = bufferIo(cwd, env(extra));
    const code = await main(["ingest", "index", "--store", "pinecone", "--embedder", "hash", ...flags], run.io);
    return { code, stdout: run.stdout(), stderr: run.stderr() };
  };

  it("creates a missing index (serverless, cosine, the embedder's dimension), waits until ready, then writes", async () => {
    const result = await index({ PINECONE_INDEX: "fresh" });
    expect(result.code, result.stderr).toBe(0);
    const created = fake.indexes.get("fresh");
    expect(created).toMatchObject({
      dimension: 512,
      metric: "cosine",
      spec: { serverless: { cloud: "aws", region: "us-east-1" } },
    });
    const firstWrite = fake.calls.findIndex((call) => call.startsWith("POST data:"));
    const control = fake.calls.slice(0, firstWrite).filter((call) => !call.includes("data:"));
    // describe (404) → create → describe until Ready (the fake reports Initializing three times).
    expect(control).toEqual(["GET /indexes/fresh", "POST /indexes", ...Array(3).fill("GET /indexes/fresh")]);
    expect(created?.namespaces.get("cml-lab-docs")?.size).toBeGreaterThan(10);
    expect([...fake.versions]).toEqual(["2026-04"]);
  });

  it("creates it where PINECONE_CLOUD and PINECONE_REGION say", async () => {
    const result = await index({ PINECONE_INDEX: "elsewhere", PINECONE_CLOUD: "gcp", PINECONE_REGION: "europe-west4" });
    expect(result.code, result.stderr).toBe(0);
    expect(fake.indexes.get("elsewhere")?.spec).toEqual({ serverless: { cloud: "gcp", region: "europe-west4" } });
  });

  it("stops before writing anything when the index has another dimension, naming both and the fix", async () => {
    const result = await index({ PINECONE_INDEX: "minilm-era" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /error: Pinecone index minilm-era has dimension 384 and metric cosine, but this run needs dimension 512 and metric cosine \(embedder hash-v1-512\)/,
    );
    expect(result.stderr).toMatch(/nothing was written/);
    expect(result.stderr).toMatch(/--var pinecone_index=<name>/);
    expect(fake.calls.filter((call) => /^POST data:\/vectors\/(upsert|delete)/.test(call))).toEqual([]);
    expect(fake.indexes.get("minilm-era")?.namespaces.get("cml-lab-docs")?.size ?? 0).toBe(0);
  });

  it("stops on another metric too", async () => {
    const result = await index({ PINECONE_INDEX: "dotty" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /has dimension 512 and metric dotproduct, but this run needs dimension 512 and metric cosine/,
    );
    expect(fake.calls.filter((call) => /^POST data:\/vectors\/(upsert|delete)/.test(call))).toEqual([]);
  });

  it("a wrong key is one line naming PINECONE_API_KEY", async () => {
    const result = await index({ PINECONE_INDEX: "fresh", PINECONE_API_KEY: "pcsk_wrong" });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("error: Pinecone rejected the API key (401): check PINECONE_API_KEY");
  });

  it("cml-lab query --store pinecone reports the same mismatch instead of a query error", async () => {
    // The job built "drifted" at 512; then someone recreated it in the console at 384 (empty: no marker record).
    expect((await index({ PINECONE_INDEX: "drifted" })).code).toBe(0);
    const drifted = fake.indexes.get("drifted");
    if (!drifted) throw new Error("the job did not create the index");
    drifted.dimension = 384;
    drifted.namespaces.clear();
    fake.calls.length = 0;
    const run = bufferIo(cwd, env({ PINECONE_INDEX: "drifted" }));
    const code = await main(["query", "How do I create a virtual environment?", "--store", "pinecone"], run.io);
    expect(code).toBe(1);
    expect(run.stderr()).toMatch(
      /Pinecone index drifted has dimension 384 and metric cosine, but this run needs dimension 512 and metric cosine/,
    );
    expect(fake.calls.filter((call) => call === "POST data:/query")).toEqual([]);
  });

  it("a query against the index the job created answers from it", async () => {
    const run = bufferIo(cwd, env({ PINECONE_INDEX: "fresh" }));
    const code = await main(["query", "How do I create a virtual environment?", "--store", "pinecone"], run.io);
    expect(code, run.stderr()).toBe(0);
    expect(run.stdout()).toMatch(/venv/);
  });
});
