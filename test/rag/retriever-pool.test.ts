import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { indexPages } from "../../src/workloads/ingest/index-pages.js";
import { ChunkCatalog } from "../../src/workloads/rag/catalog.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import { catalogDir, openRetriever } from "../../src/workloads/rag/open-retriever.js";
import { openRetrieverPool } from "../../src/workloads/rag/retriever-pool.js";
import { LocalStore } from "../../src/workloads/rag/stores/local.js";
import { samplePages } from "./helpers.js";

const QUESTIONS = [
  "how does a class inherit methods from its base class",
  "list comprehensions",
  "how do I handle an exception",
  "zebra giraffe savanna migration",
  "virtual environments and packages",
  "reading and writing files",
];

describe("the retriever pool (the local index on worker threads)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "rag-pool-"));
  beforeAll(async () => {
    const catalog = ChunkCatalog.open(catalogDir(dataDir, "local"));
    await indexPages({
      pages: samplePages(),
      store: new LocalStore(catalog),
      catalog,
      embedder: createHashEmbedder({ dim: 256 }),
    });
  });

  it("answers every question exactly as the retriever on this thread does, with questions in flight at once", async () => {
    const inline = await openRetriever({ dataDir, store: "local" });
    const pool = await openRetrieverPool({ dataDir, workers: 2 });
    try {
      expect(pool.describe()).toEqual(inline.describe());
      const asked = [...QUESTIONS, ...QUESTIONS, ...QUESTIONS];
      const pooled = await Promise.all(asked.map((q) => pool.retrieve(q, { k: 6 })));
      for (const [i, question] of asked.entries()) {
        expect(pooled[i]).toEqual(await inline.retrieve(question, { k: 6 }));
      }
      console.log(`retriever pool: ${asked.length} questions compared`);
    } finally {
      await pool.close();
    }
  });

  it("rejects with the opener's user error when there is no index, and refuses questions once closed", async () => {
    const empty = mkdtempSync(join(tmpdir(), "rag-pool-empty-"));
    await expect(openRetrieverPool({ dataDir: empty, workers: 1 })).rejects.toMatchObject({
      name: "UserError",
      message: expect.stringMatching(/^no index in /),
    });
    const pool = await openRetrieverPool({ dataDir, workers: 1 });
    await pool.close();
    await expect(pool.retrieve("list comprehensions")).rejects.toThrow(/closed/);
  });

  it("drops a queued question whose client went away", async () => {
    const pool = await openRetrieverPool({ dataDir, workers: 1 });
    try {
      const controller = new AbortController();
      const first = pool.retrieve("list comprehensions");
      const second = pool.retrieve("list comprehensions", { signal: controller.signal });
      controller.abort();
      await expect(first).resolves.not.toHaveLength(0);
      await expect(second).rejects.toMatchObject({ name: "AbortError" });
    } finally {
      await pool.close();
    }
  });
});
