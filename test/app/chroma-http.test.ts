import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningChatServer, startChatServer } from "../../src/workloads/app/listen.js";
import { storeChoices } from "../../src/workloads/app/stores.js";
import { type ChromaServer, startChromaServer } from "../../src/workloads/chroma/server.js";
import { chromaRetriever } from "./chroma-corpus.js";
import { postChat } from "./sse-client.js";

// The chat app over real HTTP against a real Chroma server holding the bundled tutorial pages.
let chroma: ChromaServer;
let app: RunningChatServer;
let chunks = 0;
const dir = mkdtempSync(join(tmpdir(), "chat-chroma-"));

beforeAll(async () => {
  chroma = await startChromaServer({ path: join(dir, "chroma") });
  const retriever = await chromaRetriever(chroma.url);
  chunks = retriever.chunks;
  const env = { CML_LAB_CHROMA_URL: chroma.url };
  app = await startChatServer({
    port: 0,
    env,
    stores: storeChoices(env, false),
    openRetriever: async (store) => (store === "chroma" ? retriever : { unavailable: "not in this test" }),
  });
});

afterAll(async () => {
  await app?.close();
  await chroma?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("chat over a real Chroma", () => {
  it("streams tutorial sources, then a cited answer drawn from them", async () => {
    expect(chunks).toBeGreaterThan(50);
    const { status, events } = await postChat(app.url, {
      question: "How do I handle exceptions with a try statement?",
      model: "offline",
      store: "chroma",
      temperature: 0,
      maxTokens: 400,
    });
    expect(status).toBe(200);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("sources");
    expect(names.slice(-2)).toEqual(["usage", "done"]);
    const sources = events[0]?.data.sources;
    if (!Array.isArray(sources)) throw new Error("no sources array");
    expect(sources).toHaveLength(5);
    expect(sources.map((s) => s.url)).toContainEqual(
      expect.stringMatching(/^https:\/\/docs\.python\.org\/3\.11\/tutorial\/errors\.html#/),
    );
    const answer = events
      .filter((e) => e.event === "delta")
      .map((e) => e.data.text)
      .join("");
    expect(answer).toMatch(/try/i);
    const cited = [...answer.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.every((n) => n >= 1 && n <= sources.length)).toBe(true);
    expect(events.at(-1)?.data.cited).toEqual([...new Set(cited)].sort((a, b) => a - b));
    expect(events.at(-2)?.data).toMatchObject({ model: "offline", store: "chroma" });
  });

  it("reports the store as configured in /api/config", async () => {
    const config = await (await fetch(`${app.url}/api/config`)).json();
    expect(config.stores.find((s: { id: string }) => s.id === "chroma")).toMatchObject({ available: true });
    expect(config.stores.find((s: { id: string }) => s.id === "local")).toMatchObject({ available: false });
  });
});
