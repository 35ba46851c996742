import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CHUNKER_VERSION } from "../../src/workloads/ingest/chunk.js";
import { indexPages } from "../../src/workloads/ingest/index-pages.js";
import { ChunkCatalog } from "../../src/workloads/rag/catalog.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import { openRetriever } from "../../src/workloads/rag/index.js";
import { catalogDir } from "../../src/workloads/rag/open-retriever.js";
import { LocalStore } from "../../src/workloads/rag/stores/local.js";
import { SAMPLES, samplePages } from "./helpers.js";

function countingEmbedder() {
  const inner = createHashEmbedder({ dim: 256 });
  const counter = { calls: 0, texts: 0 };
  return {
    counter,
    embedder: {
      ...inner,
      embedDocuments: async (texts: readonly string[]) => {
        counter.calls++;
        counter.texts += texts.length;
        return inner.embedDocuments(texts);
      },
    },
  };
}

async function run(dataDir: string, pages = samplePages(), embedder = countingEmbedder().embedder, reindex = false) {
  const catalog = ChunkCatalog.open(catalogDir(dataDir, "local"));
  return indexPages({ pages, store: new LocalStore(catalog), catalog, embedder, reindex });
}

describe("local store: index, retrieve, re-run", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "rag-local-"));
  beforeAll(async () => {
    await run(dataDir);
  });

  it("answers with numbered, per-page-capped sources that link to sections", async () => {
    const retriever = await openRetriever({ dataDir, store: "local" });
    expect(retriever.describe()).toMatchObject({ store: "local", embedder: "hash-v1-256" });
    const sources = await retriever.retrieve("how does a class inherit methods from its base class", { k: 6 });
    expect(sources[0]?.docId).toBe("tutorial/classes.html");
    expect(sources.map((source) => source.n)).toEqual(sources.map((_, i) => i + 1));
    const perPage = new Map<string, number>();
    for (const source of sources) perPage.set(source.docId, (perPage.get(source.docId) ?? 0) + 1);
    expect(Math.max(...perPage.values())).toBeLessThanOrEqual(2);
    expect(sources[0]?.url).toMatch(/^https:\/\/docs\.example\.org\/tutorial\/classes\.html#[\w-]+$/);
    expect(sources[0]?.section.startsWith(`${sources[0]?.title} \u203a`)).toBe(true);
  });

  it("returns no sources for a question the documents do not cover", async () => {
    const retriever = await openRetriever({ dataDir, store: "local" });
    expect(await retriever.retrieve("zebra giraffe savanna migration")).toEqual([]);
  });

  it("re-running on unchanged pages embeds nothing and writes nothing", async () => {
    const files = ["chunks.jsonl", "docs.json", "vectors.bin"].map((f) => join(catalogDir(dataDir, "local"), f));
    const before = files.map((file) => statSync(file).mtimeMs);
    const { counter, embedder } = countingEmbedder();
    const summary = await run(dataDir, samplePages(), embedder);
    expect(counter).toEqual({ calls: 0, texts: 0 });
    expect(summary).toMatchObject({ unchanged: summary.pages, chunksAdded: 0, chunksDeleted: 0 });
    expect(files.map((file) => statSync(file).mtimeMs)).toEqual(before);
  });

  it("an edited page rewrites only its changed chunks; a removed page loses its chunks", async () => {
    const edited = readFileSync(join(SAMPLES, "faq/general.html"), "utf8").replace(
      /<\/h1>/,
      "</h1><p>A freshly added sentence about quokkas.</p>",
    );
    const pages = samplePages({ "faq/general.html": edited }).filter((page) => page.docId !== "tutorial/venv.html");
    const { counter, embedder } = countingEmbedder();
    const summary = await run(dataDir, pages, embedder);
    expect(summary.indexed).toBe(1);
    expect(summary.removedPages).toBe(1);
    expect(counter.texts).toBe(summary.chunksAdded);
    expect(summary.chunksAdded).toBeGreaterThan(0);
    expect(summary.chunksAdded).toBeLessThanOrEqual(2);
    const catalog = ChunkCatalog.open(catalogDir(dataDir, "local"));
    expect(catalog.docs.has("tutorial/venv.html")).toBe(false);
    expect([...catalog.chunks().values()].some((chunk) => chunk.docId === "tutorial/venv.html")).toBe(false);
    const retriever = await openRetriever({ dataDir, store: "local" });
    expect((await retriever.retrieve("quokkas"))[0]?.docId).toBe("faq/general.html");
  });

  it("refuses an index built with another embedder unless asked to rebuild it", async () => {
    const other = createHashEmbedder({ dim: 128 });
    await expect(run(dataDir, samplePages(), other)).rejects.toMatchObject({
      message: expect.stringMatching(/built with embedder hash-v1-256/),
      notes: expect.arrayContaining([expect.stringMatching(/--reindex/)]),
    });
    const summary = await run(dataDir, samplePages(), other, true);
    expect(summary.indexed + summary.empty.length).toBe(summary.pages);
    expect((await openRetriever({ dataDir, store: "local" })).describe().embedder).toBe("hash-v1-128");
  });
});

describe("local store: a new chunker version", () => {
  it("chunks every page again in place, embeds only new passages and keeps no stale vectors", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rag-rechunk-"));
    const dir = catalogDir(dataDir, "local");
    const index = async (chunk?: { maxTokens: number }) => {
      const { embedder, counter } = countingEmbedder();
      const catalog = ChunkCatalog.open(dir);
      const summary = await indexPages({
        pages: samplePages(),
        store: new LocalStore(catalog),
        catalog,
        embedder,
        chunk,
      });
      return { summary, texts: counter.texts };
    };
    const old = await index({ maxTokens: 120 });
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
    writeFileSync(join(dir, "meta.json"), JSON.stringify({ ...meta, chunker: "md-sections-v0" }));

    const now = await index();
    expect(now.summary.unchanged).toBe(0);
    expect(now.summary.chunksTotal).toBeLessThan(old.summary.chunksTotal);
    expect(now.summary.chunksDeleted).toBeGreaterThan(0);
    expect(now.texts).toBe(now.summary.chunksAdded);
    expect(JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")).chunker).toBe(CHUNKER_VERSION);
    // vectors.bin rows are a 32-byte id and dim float32 values: one row per live chunk, none left behind.
    expect(statSync(join(dir, "vectors.bin")).size).toBe(now.summary.chunksTotal * (32 + 256 * 4));
    const retriever = await openRetriever({ dataDir, store: "local" });
    expect((await retriever.retrieve("how does a class inherit methods from its base class"))[0]?.docId).toBe(
      "tutorial/classes.html",
    );

    const again = await index();
    expect(again.texts).toBe(0);
    expect(again.summary.unchanged).toBe(again.summary.pages - again.summary.empty.length);
  });
});
