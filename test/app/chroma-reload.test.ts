import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChromaClient } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRetrieverFor } from "../../src/workloads/app/retrievers.js";
import { type ChromaServer, startChromaServer } from "../../src/workloads/chroma/server.js";
import { indexPages } from "../../src/workloads/ingest/index-pages.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import type { ClosableRetriever } from "../../src/workloads/rag/retriever-pool.js";
import { openStore } from "../../src/workloads/rag/stores/open-store.js";
import { samplePages } from "../rag/helpers.js";

// The lab's chat app opens the shared Chroma collection at start, often while the populate job is still writing
// it (stop 22's CI: the app answered from the part it saw, never the venv page indexed after). The app's Chroma
// retriever must serve what a finished populate wrote, from the first question after it, without a restart.
const FIRST = ["tutorial/errors.html", "tutorial/classes.html", "faq/general.html"];
const LATER = "tutorial/venv.html";
const QUESTION = "How do I create a virtual environment with venv?";

describe("the chat app's Chroma store follows the populate job", () => {
  let chroma: ChromaServer;
  let retriever: ClosableRetriever;
  const dir = mkdtempSync(join(tmpdir(), "chroma-reload-"));
  const jobData = join(dir, "job"); // the populate job's data dir; the app reads its own (no catalog there)
  const appData = join(dir, "app");
  const logs: string[] = [];
  const populate = async (docIds: string[]) => {
    const connection = { store: "chroma" as const, chroma: { url: chroma.url, collection: "docs" } };
    const { store, catalog } = await openStore(jobData, connection);
    const pages = samplePages().filter((page) => docIds.includes(page.docId));
    return indexPages({ pages, store, catalog, embedder: createHashEmbedder({ dim: 128 }), batchSize: 16 });
  };
  const urls = async () => (await retriever.retrieve(QUESTION, { k: 5 })).map((source) => source.url);
  const reloads = () => logs.filter((line) => line.startsWith("chroma index reloaded")).length;
  const pastCheckInterval = () => new Promise((resolve) => setTimeout(resolve, 1_100));

  beforeAll(async () => {
    chroma = await startChromaServer({ path: join(dir, "chroma") });
    await populate(FIRST);
    const env = { CML_LAB_CHROMA_URL: chroma.url, CML_LAB_CHROMA_COLLECTION: "docs" };
    const opened = await openRetrieverFor(appData, env, {
      workers: 0,
      chromaCheckIntervalMs: 600_000, // only the check before a question, so the test sees that one
      log: (line) => logs.push(line),
    })("chroma");
    if ("unavailable" in opened) throw new Error(opened.unavailable);
    retriever = opened as ClosableRetriever;
  }, 60_000);

  afterAll(async () => {
    await retriever?.close();
    await chroma?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers from pages a populate added after the app opened the collection, on the next question", async () => {
    expect((await urls()).some((url) => url.includes(LATER))).toBe(false);
    const before = retriever.describe().chunks;
    const summary = await populate([...FIRST, LATER]);
    expect(summary.chunksAdded).toBeGreaterThan(0);
    await pastCheckInterval();
    expect((await urls()).some((url) => url.includes(LATER))).toBe(true);
    expect(retriever.describe().chunks).toBe(before + summary.chunksAdded);
    expect(reloads()).toBe(1);
  });

  it("a populate that changes nothing makes the app reopen nothing", async () => {
    const summary = await populate([...FIRST, LATER]);
    expect(summary.chunksAdded + summary.chunksDeleted).toBe(0);
    await pastCheckInterval();
    await urls();
    expect(reloads()).toBe(1);
  });

  it("keeps answering when the collection is dropped and repopulated (a reset), from the new one", async () => {
    await new ChromaClient({ host: "127.0.0.1", port: Number(new URL(chroma.url).port) }).deleteCollection({
      name: "docs",
    });
    rmSync(jobData, { recursive: true, force: true });
    await populate([LATER]);
    await pastCheckInterval();
    const after = await urls();
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((url) => url.includes(LATER))).toBe(true);
    expect(reloads()).toBe(2);
  });

  it("a Chroma that stops answering is said once, and what is open keeps serving", async () => {
    const port = Number(new URL(chroma.url).port);
    await chroma.close();
    await pastCheckInterval();
    await expect(urls()).rejects.toThrow(); // the query itself needs the server: the check must not be what fails
    await pastCheckInterval();
    await expect(urls()).rejects.toThrow();
    expect(logs.filter((line) => line.startsWith("chroma store not checked for changes"))).toHaveLength(1);
    chroma = await startChromaServer({ path: join(dir, "chroma"), port });
    await pastCheckInterval();
    expect((await urls()).every((url) => url.includes(LATER))).toBe(true);
    expect(reloads()).toBe(2);
  }, 60_000);
});
