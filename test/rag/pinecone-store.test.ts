import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setupServer } from "msw/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHUNKER_VERSION, type ChunkOptions } from "../../src/workloads/ingest/chunk.js";
import { indexPages } from "../../src/workloads/ingest/index-pages.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import { openStore } from "../../src/workloads/rag/stores/open-store.js";
import {
  PINECONE_MAX_BATCH,
  PINECONE_MAX_REQUEST_BYTES,
  PineconeStore,
} from "../../src/workloads/rag/stores/pinecone.js";
import { SAMPLES, samplePages } from "./helpers.js";
import { hostFor, pineconeFake } from "./pinecone-fake.js";

const KEY = "pcsk_canary_never_print_7f3e";
const HOST = hostFor("docs");
describe("Pinecone store (msw from the REST contract)", () => {
  const fake = pineconeFake(KEY, [
    { name: "docs", dimension: 128 },
    { name: "narrow", dimension: 8 },
    { name: "wide", dimension: 1536 },
  ]);
  const server = setupServer(...fake.handlers);
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterAll(() => server.close());
  const dataDir = mkdtempSync(join(tmpdir(), "rag-pinecone-"));
  const SUBSET = ["tutorial/errors.html", "tutorial/classes.html", "faq/general.html", "tutorial/venv.html"];
  const run = async (
    pages = samplePages().filter((p) => SUBSET.includes(p.docId)),
    namespace = "python-hash",
    chunk?: ChunkOptions,
  ) => {
    const { store, catalog } = await openStore(dataDir, {
      store: "pinecone",
      pinecone: { apiKey: KEY, index: "docs", namespace, host: HOST },
    });
    const inner = createHashEmbedder({ dim: 128 });
    let texts = 0;
    const embedder = {
      ...inner,
      embedDocuments: (batch: readonly string[]) => {
        texts += batch.length;
        return inner.embedDocuments(batch);
      },
    };
    const before = { ...fake.writes };
    const summary = await indexPages({ pages, store, catalog, embedder, batchSize: 2000, chunk });
    return {
      summary,
      catalog,
      texts,
      upserts: fake.writes.upserts - before.upserts,
      deletes: fake.writes.deletes - before.deletes,
      store,
    };
  };

  it("writes within Pinecone's limits and only what changed", async () => {
    const first = await run();
    expect(first.summary.indexed).toBe(SUBSET.length);
    expect(await first.store.count()).toBe(first.summary.chunksTotal);
    expect(fake.writes.largestBatch).toBeLessThanOrEqual(PINECONE_MAX_BATCH);
    expect(fake.writes.largestBody).toBeLessThan(PINECONE_MAX_REQUEST_BYTES);
    expect(fake.writes).toMatchObject({ keyMissing: 0, nullMetadata: 0 });

    const noop = await run();
    expect(noop).toMatchObject({ texts: 0, deletes: 0, upserts: 0 });

    const edited = readFileSync(join(SAMPLES, "tutorial/classes.html"), "utf8").replace(
      /<\/h1>/,
      "</h1><p>Wombats appear only in this sentence.</p>",
    );
    const pages = samplePages({ "tutorial/classes.html": edited }).filter(
      (p) => SUBSET.includes(p.docId) && p.docId !== "faq/general.html",
    );
    const edit = await run(pages);
    expect(edit.summary).toMatchObject({ indexed: 1, removedPages: 1 });
    expect(edit.texts).toBe(edit.summary.chunksAdded);
    expect(edit.summary.chunksAdded).toBeLessThanOrEqual(2);
    expect(await edit.store.count()).toBe(edit.summary.chunksTotal);
    const listed = await edit.store.listDocChunks(pages.map((p) => p.docId));
    expect(listed.has("faq/general.html")).toBe(false);
    expect([...listed.keys()].sort()).toEqual(pages.map((p) => p.docId).sort());
  });

  it("chunks again in place when only the chunker changed, writing only the passages that changed", async () => {
    const old = await run(undefined, "rechunk", { maxTokens: 120 });
    const recorded = await old.store.readMeta();
    if (!recorded) throw new Error("no meta after indexing");
    const oldMeta = { ...recorded, chunker: "md-sections-v0" };
    await old.store.prepare(oldMeta, { reset: false });
    writeFileSync(join(old.catalog.dir, "meta.json"), JSON.stringify(oldMeta));
    expect((await old.store.readMeta())?.chunker).toBe("md-sections-v0");

    const now = await run(undefined, "rechunk");
    expect(now.summary).toMatchObject({ unchanged: 0, indexed: SUBSET.length });
    expect(now.summary.chunksTotal).toBeLessThan(old.summary.chunksTotal);
    expect(now.summary.chunksDeleted).toBeGreaterThan(0);
    expect(now.texts).toBe(now.summary.chunksAdded);
    expect(await now.store.count()).toBe(now.summary.chunksTotal);
    expect((await now.store.readMeta())?.chunker).toBe(CHUNKER_VERSION);

    const again = await run(undefined, "rechunk");
    expect(again).toMatchObject({ texts: 0, deletes: 0, upserts: 0 });
  });

  it("splits upserts by record count and by request bytes, and caps metadata size", async () => {
    // A Pinecone index has one dimension, so the narrow and the wide records go to an index each.
    const store = PineconeStore.connect({ apiKey: KEY, index: "narrow", namespace: "limits" });
    await store.prepare({ embedder: "x", dim: 8, chunker: "c" }, { reset: false });
    const wideStore = PineconeStore.connect({ apiKey: KEY, index: "wide", namespace: "limits" });
    await wideStore.prepare({ embedder: "y", dim: 1536, chunker: "c" }, { reset: false });
    const record = (i: number, dim: number, text = "t") => ({
      id: `c${i}`,
      docId: "doc",
      url: "u",
      title: "t",
      section: "s",
      text,
      index: i,
      vector: Float32Array.from({ length: dim }, (_, j) => (j === 0 ? 1 : 0.123456789)),
    });
    const before = fake.writes.upserts;
    await store.upsert(Array.from({ length: 1500 }, (_, i) => record(i, 8)));
    expect(fake.writes.upserts - before).toBe(2);
    const wide = fake.writes.upserts;
    await wideStore.upsert(Array.from({ length: 120 }, (_, i) => record(2000 + i, 1536, "x".repeat(60_000))));
    expect(fake.writes.upserts - wide).toBeGreaterThan(1);
    expect(fake.writes.largestBody).toBeLessThan(PINECONE_MAX_REQUEST_BYTES);
    const wideRows = fake.indexes.get("wide")?.namespaces.get("limits");
    const stored = wideRows?.get(`${[...(wideRows?.keys() ?? [])].find((id) => id.endsWith("#c2000"))}`);
    expect(Buffer.byteLength(JSON.stringify(stored?.metadata))).toBeLessThan(40 * 1024);
  });
});
