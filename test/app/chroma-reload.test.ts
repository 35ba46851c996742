import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChromaClient } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reloadingRetriever } from "../../src/workloads/app/reloading-retriever.js";
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
    expect((await urls()).some((url) => url.includes(LATER))).toBe(true);
    expect(retriever.describe().chunks).toBe(before + summary.chunksAdded);
    expect(reloads()).toBe(1);
  });

  it("a populate that changes nothing makes the app reopen nothing", async () => {
    const summary = await populate([...FIRST, LATER]);
    expect(summary.chunksAdded + summary.chunksDeleted).toBe(0);
    await urls();
    expect(reloads()).toBe(1);
  });

  it("keeps answering when the collection is dropped and repopulated (a reset), from the new one", async () => {
    await new ChromaClient({ host: "127.0.0.1", port: Number(new URL(chroma.url).port) }).deleteCollection({
      name: "docs",
    });
    rmSync(jobData, { recursive: true, force: true });
    await populate([LATER]);
    const after = await urls();
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((url) => url.includes(LATER))).toBe(true);
    expect(reloads()).toBe(2);
  });

  it("a Chroma that stops answering is said once, and what is open keeps serving", async () => {
    const port = Number(new URL(chroma.url).port);
    await chroma.close();
    await expect(urls()).rejects.toThrow(); // the query itself needs the server: the check must not be what fails
    await expect(urls()).rejects.toThrow();
    expect(logs.filter((line) => line.startsWith("chroma store not checked for changes"))).toHaveLength(1);
    chroma = await startChromaServer({ path: join(dir, "chroma"), port });
    expect((await urls()).every((url) => url.includes(LATER))).toBe(true);
    expect(reloads()).toBe(2);
  }, 60_000);
});

// The check before a question must have started after the question arrived. Stop 23's CI: the populate job
// marked its run complete, the e2e asked at once, and the app, which had looked less than a second before,
// answered from what it had seen mid-populate. A check already under way is no better: it may have read before
// the mark. Here the store's signature is a function the test answers by hand, so the order is exact.
describe("a question waits for a check that started after it arrived", () => {
  it("does not reuse a check that was under way, and questions that arrive together share one more", async () => {
    let state = "a";
    const reads: Array<(value: { key: string; complete: boolean }) => void> = [];
    let opens = 0;
    const retriever = await reloadingRetriever(
      async () => {
        const generation = ++opens;
        return {
          describe: () => ({ store: "chroma" as const, embedder: "hash", chunks: generation }),
          retrieve: async () => [
            { n: 1, docId: `gen${generation}`, title: "", section: "", url: "", text: "", score: 1 },
          ],
          close: async () => {},
        };
      },
      () =>
        reads.length === 0
          ? { key: state, complete: true } // the read before the first open
          : new Promise((resolve) => reads.push(resolve)),
      { intervalMs: 600_000, checkBeforeRetrieve: true },
    );
    reads.push(() => {}); // the first read was answered at once
    const first = retriever.retrieve("q1"); // starts check #1, which reads the store as it is now ("a")
    await until(() => reads.length === 2);
    state = "b"; // the populate finishes while check #1 is under way
    const second = retriever.retrieve("q2");
    const third = retriever.retrieve("q3");
    reads[1]?.({ key: "a", complete: true }); // check #1 read before the change
    expect((await first)[0]?.docId).toBe("gen1");
    await until(() => reads.length === 3); // one more check for q2 and q3 together
    reads[2]?.({ key: state, complete: true });
    expect((await second)[0]?.docId).toBe("gen2");
    expect((await third)[0]?.docId).toBe("gen2");
    expect(reads).toHaveLength(3);
    expect(opens).toBe(2);
    await retriever.close();
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}
