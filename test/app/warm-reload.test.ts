import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startChatServer } from "../../src/workloads/app/listen.js";
import { openRetrieverFor } from "../../src/workloads/app/retrievers.js";
import { storeChoices } from "../../src/workloads/app/stores.js";
import { indexPages } from "../../src/workloads/ingest/index-pages.js";
import { ChunkCatalog } from "../../src/workloads/rag/catalog.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import { catalogDir } from "../../src/workloads/rag/open-retriever.js";
import { LocalStore } from "../../src/workloads/rag/stores/local.js";
import { LOCAL_STORE_ADVISED_MAX_CHUNKS } from "../../src/workloads/rag/stores/local-scale.js";
import { SAMPLES, samplePages } from "../rag/helpers.js";
import { fixedRetriever } from "./fixtures.js";
import { postChat, validBody } from "./sse-client.js";

const env: NodeJS.ProcessEnv = { CML_LAB_MODELS: "offline", HOME: "/nonexistent" };

async function health(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/healthz`);
  return { status: response.status, body: await response.json() };
}

describe("the app opens and warms its store at start", () => {
  it("reports not ready on /healthz until the default store is open, and opens it before any question", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const opened: string[] = [];
    const server = await startChatServer({
      port: 0,
      env,
      stores: storeChoices(env, true),
      openRetriever: async (store) => {
        opened.push(store);
        await gate;
        return fixedRetriever();
      },
      warmAtStart: true,
    });
    try {
      expect(await health(server.url)).toEqual({ status: 503, body: { ok: false, ready: false, warming: "local" } });
      expect(opened).toEqual(["local"]);
      release();
      await server.ready;
      expect(await health(server.url)).toEqual({ status: 200, body: { ok: true, ready: true } });
      const { events } = await postChat(server.url, validBody);
      expect(events.at(-1)?.event).toBe("done");
      // The question reused the store opened at start.
      expect(opened).toEqual(["local"]);
    } finally {
      await server.close();
    }
  });

  it("tries a store that is not up at start again in the background, without holding /healthz", async () => {
    const logs: string[] = [];
    let attempts = 0;
    const server = await startChatServer({
      port: 0,
      env,
      stores: storeChoices(env, true),
      openRetriever: async () => {
        attempts++;
        return attempts <= 2 ? { unavailable: `connection refused (try ${attempts})` } : fixedRetriever();
      },
      warmAtStart: true,
      log: (line) => logs.push(line),
    });
    try {
      await server.ready;
      // Ready after the first try: the app serves (questions open the store on their own) while it retries.
      expect(await health(server.url)).toEqual({ status: 200, body: { ok: true, ready: true } });
      expect(logs[0]).toBe(
        "store local not opened at start: connection refused (try 1); trying again in the background",
      );
      const deadline = Date.now() + 10_000;
      while (!logs.some((l) => l.startsWith("store local ready")) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      // Once open, it stays open: no more tries (the retry's backoff starts at 500 ms).
      await new Promise((r) => setTimeout(r, 1_500));
      expect(logs.filter((l) => l.startsWith("store local ready"))).toHaveLength(1);
      expect(attempts).toBe(3);
    } finally {
      await server.close();
    }
  });

  it("stops trying when the app closes", async () => {
    const logs: string[] = [];
    let attempts = 0;
    const server = await startChatServer({
      port: 0,
      env,
      stores: storeChoices(env, true),
      openRetriever: async () => {
        attempts++;
        return { unavailable: "connection refused" };
      },
      warmAtStart: true,
      log: (line) => logs.push(line),
    });
    await server.ready;
    await server.close();
    const after = attempts;
    await new Promise((r) => setTimeout(r, 2_000));
    expect(attempts).toBe(after);
    expect(logs.filter((l) => l.includes("still not opened"))).toEqual([]);
  });

  it("says in /api/config and the start-up log when the local store is past the size it is meant for", async () => {
    for (const [chunks, advised] of [
      [LOCAL_STORE_ADVISED_MAX_CHUNKS, false],
      [LOCAL_STORE_ADVISED_MAX_CHUNKS + 1, true],
    ] as const) {
      const logs: string[] = [];
      const server = await startChatServer({
        port: 0,
        env,
        stores: storeChoices(env, true),
        openRetriever: async () => ({
          ...fixedRetriever(),
          describe: () => ({ store: "local", embedder: "t", chunks }),
        }),
        warmAtStart: true,
        log: (line) => logs.push(line),
      });
      try {
        await server.ready;
        const config = await (await fetch(`${server.url}/api/config`)).json();
        const local = config.stores.find((s: { id: string }) => s.id === "local");
        const pattern = new RegExp(`${chunks} chunks.*Chroma or Pinecone`);
        if (advised) {
          expect(local.advice).toMatch(pattern);
          expect(logs.some((line) => pattern.test(line))).toBe(true);
        } else {
          expect(local.advice).toBeUndefined();
          expect(logs.some((line) => /Chroma or Pinecone/.test(line))).toBe(false);
        }
        expect(logs.some((line) => line.startsWith(`store local ready: ${chunks} chunks`))).toBe(true);
      } finally {
        await server.close();
      }
    }
  });
});

async function buildIndex(dataDir: string, pages = samplePages()) {
  const catalog = ChunkCatalog.open(catalogDir(dataDir, "local"));
  await indexPages({ pages, store: new LocalStore(catalog), catalog, embedder: createHashEmbedder({ dim: 256 }) });
}

describe("a rebuilt local index", () => {
  it("is served without a restart (retrieval threads reopen it when the files change)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "app-reload-"));
    await buildIndex(dataDir);
    const logs: string[] = [];
    const server = await startChatServer({
      port: 0,
      env,
      stores: storeChoices(env, true),
      openRetriever: openRetrieverFor(dataDir, env, { workers: 1, reloadIntervalMs: 50, log: (l) => logs.push(l) }),
      warmAtStart: true,
      log: (line) => logs.push(line),
    });
    const ask = async () => {
      const { events } = await postChat(server.url, { ...validBody, question: "Tell me about quokkas" });
      const sources = events.find((e) => e.event === "sources")?.data.sources as { text: string }[];
      return sources.some((source) => source.text.includes("quokkas"));
    };
    try {
      await server.ready;
      expect(await ask()).toBe(false);
      const edited = readFileSync(join(SAMPLES, "faq/general.html"), "utf8").replace(
        /<\/h1>/,
        "</h1><p>A freshly added sentence about quokkas.</p>",
      );
      await buildIndex(dataDir, samplePages({ "faq/general.html": edited }));
      // Bounded: the watcher looks every 50 ms and reloads once the files held still for one look.
      let found = false;
      for (let attempt = 0; attempt < 200 && !found; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        found = await ask();
      }
      expect(found).toBe(true);
      expect(logs.some((line) => /^local index reloaded: \d+ chunks$/.test(line))).toBe(true);
    } finally {
      await server.close();
    }
  });
});
