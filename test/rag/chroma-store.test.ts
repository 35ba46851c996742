import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChromaServer, startChromaServer } from "../../src/workloads/chroma/server.js";
import type { ChunkOptions } from "../../src/workloads/ingest/chunk.js";
import { CHUNKER_VERSION } from "../../src/workloads/ingest/chunk.js";
import { type IndexEvent, indexPages } from "../../src/workloads/ingest/index-pages.js";
import type { Embedder } from "../../src/workloads/rag/embedders/embedder.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import { openRetriever } from "../../src/workloads/rag/index.js";
import { ChromaStore } from "../../src/workloads/rag/stores/chroma.js";
import { openStore } from "../../src/workloads/rag/stores/open-store.js";
import { SAMPLES, samplePages } from "./helpers.js";

const SUBSET = ["tutorial/errors.html", "tutorial/classes.html", "faq/general.html", "tutorial/venv.html"];

function counting(): { embedder: Embedder; texts: () => number } {
  const inner = createHashEmbedder({ dim: 128 });
  let texts = 0;
  return {
    embedder: {
      ...inner,
      embedDocuments: (batch) => {
        texts += batch.length;
        return inner.embedDocuments(batch);
      },
    },
    texts: () => texts,
  };
}

// The lab's populate job writes to the shared Chroma server on every run; it must only write what changed.
describe("Chroma store (real server)", () => {
  let chroma: ChromaServer;
  const dataDir = mkdtempSync(join(tmpdir(), "rag-chroma-"));
  const connection = () => ({ store: "chroma" as const, chroma: { url: chroma.url, collection: "docs" } });
  const run = async (pages = samplePages().filter((p) => SUBSET.includes(p.docId))) => {
    const { store, catalog } = await openStore(dataDir, connection());
    const { embedder, texts } = counting();
    const summary = await indexPages({ pages, store, catalog, embedder, batchSize: 16 });
    return { summary, texts: texts(), store };
  };
  const storedIds = async () => {
    const store = await ChromaStore.connect(chroma.url, "docs");
    return store.listDocChunks();
  };

  beforeAll(async () => {
    chroma = await startChromaServer({ path: join(dataDir, "chroma") });
  });
  afterAll(() => chroma.close());

  it("indexes, then re-runs as a no-op, rewrites only an edited page's changed chunks and drops removed pages", async () => {
    const first = await run();
    expect(first.summary.indexed).toBe(SUBSET.length);
    expect(await first.store.count()).toBe(first.summary.chunksTotal);
    expect(first.texts).toBe(first.summary.chunksTotal);

    const before = await storedIds();
    const noop = await run();
    expect(noop.texts).toBe(0);
    expect(noop.summary).toMatchObject({ unchanged: SUBSET.length, chunksAdded: 0, chunksDeleted: 0 });
    expect(await storedIds()).toEqual(before);

    const edited = readFileSync(join(SAMPLES, "tutorial/errors.html"), "utf8").replace(
      /<\/h1>/,
      "</h1><p>Numbats are mentioned here and nowhere else.</p>",
    );
    const pages = samplePages({ "tutorial/errors.html": edited }).filter(
      (p) => SUBSET.includes(p.docId) && p.docId !== "tutorial/venv.html",
    );
    const edit = await run(pages);
    expect(edit.summary).toMatchObject({ indexed: 1, removedPages: 1 });
    expect(edit.texts).toBe(edit.summary.chunksAdded);
    expect(edit.summary.chunksAdded).toBeGreaterThan(0);
    expect(edit.summary.chunksAdded).toBeLessThanOrEqual(2);
    const after = await storedIds();
    expect(after.has("tutorial/venv.html")).toBe(false);
    expect(after.get("tutorial/classes.html")).toEqual(before.get("tutorial/classes.html"));
    const errorsBefore = new Set(before.get("tutorial/errors.html"));
    const changed = (after.get("tutorial/errors.html") ?? []).filter((id) => !errorsBefore.has(id));
    expect(changed.length).toBe(edit.summary.chunksAdded);
  });

  it("serves the hybrid retriever, rebuilding the lexical side from Chroma when the data dir has none", async () => {
    for (const dir of [dataDir, mkdtempSync(join(tmpdir(), "rag-chroma-empty-"))]) {
      const retriever = await openRetriever({ dataDir: dir, ...connection() });
      const [top] = await retriever.retrieve("numbats");
      expect(top?.docId).toBe("tutorial/errors.html");
      expect(retriever.describe()).toMatchObject({ store: "chroma", embedder: "hash-v1-128" });
    }
  });

  it("chunks every page again in place when only the chunker changed, embedding only the passages that changed", async () => {
    const rechunk = { store: "chroma" as const, chroma: { url: chroma.url, collection: "rechunk" } };
    const pages = samplePages().filter((p) => SUBSET.includes(p.docId));
    const index = async (chunk?: ChunkOptions) => {
      const { store, catalog } = await openStore(dataDir, rechunk);
      const { embedder, texts } = counting();
      const events: IndexEvent[] = [];
      const summary = await indexPages({ pages, store, catalog, embedder, chunk, onEvent: (e) => events.push(e) });
      return { summary, texts: texts(), start: events.find((e) => e.type === "index-start") };
    };
    const old = await index({ maxTokens: 120 });
    // Mark the collection and the data directory's catalog as built by an older chunker.
    const { store, catalog } = await openStore(dataDir, rechunk);
    const recorded = await store.readMeta();
    if (!recorded) throw new Error("no meta after indexing");
    const oldMeta = { ...recorded, chunker: "md-sections-v0" };
    await store.prepare(oldMeta, { reset: false });
    writeFileSync(join(catalog.dir, "meta.json"), JSON.stringify(oldMeta));

    const now = await index();
    expect(now.start).toMatchObject({ rechunk: { from: "md-sections-v0", to: CHUNKER_VERSION } });
    expect(now.summary).toMatchObject({ unchanged: 0, indexed: SUBSET.length });
    expect(now.summary.chunksTotal).toBeLessThan(old.summary.chunksTotal);
    expect(now.summary.chunksDeleted).toBeGreaterThan(0);
    expect(now.texts).toBe(now.summary.chunksAdded);
    const live = await (await ChromaStore.connect(chroma.url, "rechunk")).listDocChunks();
    expect([...live.values()].flat().length).toBe(now.summary.chunksTotal);
    expect((await (await ChromaStore.connect(chroma.url, "rechunk")).readMeta())?.chunker).toBe(CHUNKER_VERSION);

    const again = await index();
    expect(again.texts).toBe(0);
    expect(again.summary).toMatchObject({ unchanged: SUBSET.length, chunksAdded: 0, chunksDeleted: 0 });
  });

  it("refuses to mix embedders in one collection", async () => {
    const { store, catalog } = await openStore(dataDir, connection());
    await expect(
      indexPages({ pages: samplePages().slice(0, 1), store, catalog, embedder: createHashEmbedder({ dim: 64 }) }),
    ).rejects.toThrow(/built with embedder hash-v1-128/);
  });
});
