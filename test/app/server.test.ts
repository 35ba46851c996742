import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningChatServer, startChatServer } from "../../src/workloads/app/listen.js";
import { storeChoices } from "../../src/workloads/app/stores.js";
import { createOfflineModel } from "../../src/workloads/llm/offline.js";
import { type ChatModel, ModelError, type ModelId } from "../../src/workloads/llm/types.js";
import { CANARY, fixedRetriever } from "./fixtures.js";
import { postChat, validBody } from "./sse-client.js";

const env: NodeJS.ProcessEnv = {
  CML_LAB_CML_MODEL_URL: "https://modelservice.ml-test.example/model",
  CML_LAB_CML_MODEL_ACCESS_KEY: CANARY,
  CML_LAB_OPENAI_BASE_URL: "https://caii.example/v1",
  CML_LAB_OPENAI_MODEL: "llama",
  CML_LAB_OPENAI_API_KEY: `${CANARY}-openai`,
  PINECONE_API_KEY: `${CANARY}-pinecone`,
  CML_LAB_PINECONE_INDEX: "lab-docs",
  HOME: "/nonexistent",
};

/** A model the test controls: waits for `gate`, records the abort, can fail with a message. */
function controlledModel(control: {
  gate?: Promise<void>;
  aborted?: boolean;
  fail?: string;
  text?: string;
}): ChatModel {
  return {
    id: "openai",
    describe: () => "test model",
    async *stream(_input, options) {
      options.signal?.addEventListener("abort", () => {
        control.aborted = true;
      });
      yield { type: "delta", text: "Partial " };
      if (control.gate) await control.gate;
      if (control.fail) throw new ModelError("upstream", control.fail);
      yield { type: "delta", text: control.text ?? "answer [1] and [9]." };
      yield { type: "usage", inputTokens: 10, outputTokens: 4, estimated: false };
    },
  };
}

let server: RunningChatServer;
let model: ChatModel = createOfflineModel();
const retriever = fixedRetriever();
const logs: string[] = [];

beforeAll(async () => {
  server = await startChatServer({
    port: 0,
    env,
    stores: storeChoices(env, true),
    openRetriever: async (store) =>
      store === "local" ? retriever : { unavailable: `store ${store} has no data (${CANARY})` },
    createModel: (id: ModelId) => (id === "offline" ? createOfflineModel() : model),
    maxConcurrentPerClient: 2,
    log: (line) => logs.push(line),
  });
});
afterAll(() => server.close());
afterEach(() => {
  model = createOfflineModel();
});

describe("POST /api/chat", () => {
  it("streams sources, then deltas, then usage, then done, with valid citations", async () => {
    const { status, events } = await postChat(server.url, validBody);
    expect(status).toBe(200);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("sources");
    expect(names.at(-2)).toBe("usage");
    expect(names.at(-1)).toBe("done");
    expect(names.slice(1, -2).every((n) => n === "delta")).toBe(true);
    expect(names.filter((n) => n === "delta").length).toBeGreaterThan(3);
    const sources = events[0]?.data.sources;
    expect(Array.isArray(sources) && sources[0]).toMatchObject({
      n: 1,
      title: "More Control Flow Tools",
      url: "https://docs.example/tutorial/controlflow.html#for-statements",
    });
    const text = events
      .filter((e) => e.event === "delta")
      .map((e) => e.data.text)
      .join("");
    expect(text).toMatch(/iterate/);
    const cited = [...text.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.every((n) => Array.isArray(sources) && n <= sources.length)).toBe(true);
    const usage = events.at(-2)?.data;
    expect(usage).toMatchObject({ model: "offline", store: "local" });
    expect(typeof usage?.firstTokenMs).toBe("number");
    expect(Number(usage?.totalMs)).toBeGreaterThanOrEqual(Number(usage?.firstTokenMs));
  });

  it("removes citations to sources that were not provided", async () => {
    model = controlledModel({});
    const { events } = await postChat(server.url, { ...validBody, model: "openai" });
    const text = events
      .filter((e) => e.event === "delta")
      .map((e) => e.data.text)
      .join("");
    expect(text).toBe("Partial answer [1] and .");
    expect(events.at(-1)).toMatchObject({ event: "done", data: { cited: [1] } });
  });

  it("condenses a follow-up with the history before retrieval", async () => {
    const history = [
      { role: "user", content: "What are list comprehensions?" },
      { role: "assistant", content: "A concise way to create lists [1]." },
    ];
    await postChat(server.url, { ...validBody, question: "Are they fast?", history });
    expect(retriever.queries.at(-1)).toBe("What are list comprehensions? Are they fast?");
  });

  it("with store none answers without sources", async () => {
    const { events } = await postChat(server.url, { ...validBody, store: "none" });
    expect(events[0]).toMatchObject({ event: "sources", data: { sources: [] } });
    expect(events.at(-1)?.event).toBe("done");
  });

  it("ends with an error event, never a hung stream, and never leaks a secret", async () => {
    model = controlledModel({ fail: `upstream said no to key ${CANARY}` });
    const failed = await postChat(server.url, { ...validBody, model: "openai" });
    expect(failed.events.map((e) => e.event)).toEqual(["sources", "delta", "error"]);
    expect(JSON.stringify(failed.events)).not.toContain(CANARY);
    expect(String(failed.events.at(-1)?.data.message)).toMatch(/upstream said no/);

    const unavailable = await postChat(server.url, { ...validBody, store: "pinecone" });
    expect(unavailable.events.map((e) => e.event)).toEqual(["error"]);
    expect(JSON.stringify(unavailable.events)).not.toContain(CANARY);
    expect(logs.join("\n")).not.toContain(CANARY);
  });

  it.each([
    [{ ...validBody, question: "" }, "question"],
    [{ ...validBody, question: "x".repeat(4001) }, "question"],
    [{ ...validBody, temperature: 1.5 }, "temperature"],
    [{ ...validBody, temperature: "0.5" }, "temperature"],
    [{ ...validBody, maxTokens: 0 }, "maxTokens"],
    [{ ...validBody, maxTokens: 4097 }, "maxTokens"],
    [{ ...validBody, maxTokens: 10.5 }, "maxTokens"],
    [{ ...validBody, model: "gpt-9" }, "model"],
    [{ ...validBody, model: "bedrock" }, "model"],
    [{ ...validBody, store: "redis" }, "store"],
    [{ ...validBody, store: "chroma" }, "store"],
    [{ ...validBody, history: [{ role: "system", content: "x" }] }, "history[0]"],
    [{ ...validBody, url: "https://evil.example" }, "url"],
    ["{not json", "body"],
    [[1, 2], "body"],
  ])("rejects a bad body (case %#) with 400 naming the field", async (body, field) => {
    const { status, json } = await postChat(server.url, body);
    expect(status).toBe(400);
    expect(json?.field).toBe(field);
  });

  it("refuses cross-site browser requests: a body that is not application/json (415) or a foreign Origin (403)", async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${server.url}/api/chat`, { method: "POST", headers, body: JSON.stringify(validBody) });
    const host = new URL(server.url).host;
    const cases: [Record<string, string>, number][] = [
      [{ "content-type": "text/plain" }, 415],
      [{ "content-type": "text/plain;charset=UTF-8", origin: `http://${host}` }, 415],
      [{ "content-type": "application/x-www-form-urlencoded" }, 415],
      [{ "content-type": "multipart/form-data; boundary=x" }, 415],
      [{}, 415],
      [{ "content-type": "application/json", origin: "https://evil.example" }, 403],
      [{ "content-type": "text/plain", origin: "https://evil.example" }, 403],
      [{ "content-type": "application/json", origin: "null" }, 403],
      [{ "content-type": "application/json", origin: `http://${host}.evil.example` }, 403],
    ];
    for (const [headers, status] of cases) {
      const response = await post(headers);
      expect(response.status, JSON.stringify(headers)).toBe(status);
      await response.body?.cancel();
    }
    // Same origin and no Origin (a script) are served.
    const served: Record<string, string>[] = [
      { "content-type": "application/json", origin: `http://${host}` },
      { "content-type": "application/json; charset=utf-8" },
    ];
    for (const headers of served) {
      const response = await post(headers);
      expect(response.status, JSON.stringify(headers)).toBe(200);
      await response.text();
    }
    // An origin in CML_LAB_APP_ALLOWED_ORIGINS is served too.
    const allowed = await startChatServer({
      port: 0,
      env: { ...env, CML_LAB_APP_ALLOWED_ORIGINS: "https://portal.example, https://other.example/" },
      stores: storeChoices(env, true),
      openRetriever: async () => retriever,
      createModel: () => createOfflineModel(),
    });
    try {
      for (const [origin, status] of [
        ["https://other.example", 200],
        ["https://portal.example.evil", 403],
      ] as const) {
        const response = await fetch(`${allowed.url}/api/chat`, {
          method: "POST",
          headers: { "content-type": "application/json", origin },
          body: JSON.stringify(validBody),
        });
        expect(response.status, origin).toBe(status);
        await response.text();
      }
    } finally {
      await allowed.close();
    }
  });

  it("rejects an oversized body with 413", async () => {
    const history = Array.from({ length: 20 }, () => ({ role: "user", content: "y".repeat(8_000) }));
    const { status, json } = await postChat(
      server.url,
      { ...validBody, history, pad: "z".repeat(60_000) },
      // The server answers before reading the whole body, so this connection cannot be reused.
      { headers: { connection: "close" } },
    );
    expect(status).toBe(413);
    expect(json?.field).toBe("body");
  });

  it("caps concurrent generations per client with 429 and frees the slot when one ends", async () => {
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    model = controlledModel({ gate });
    const body = { ...validBody, model: "openai" };
    const started: Promise<unknown>[] = [];
    const firstDeltas: Promise<void>[] = [];
    for (let i = 0; i < 2; i++) {
      let seen = () => {};
      firstDeltas.push(
        new Promise<void>((r) => {
          seen = r;
        }),
      );
      started.push(postChat(server.url, body, { onEvent: (e) => e.event === "delta" && seen() }));
    }
    await Promise.all(firstDeltas);
    const third = await postChat(server.url, body);
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBe("2");
    open();
    await Promise.all(started);
    const fourth = await postChat(server.url, body);
    expect(fourth.status).toBe(200);
  });

  it("aborts the upstream call when the client disconnects, and frees its slot", async () => {
    const control: { gate: Promise<void>; aborted?: boolean } = { gate: new Promise(() => {}) };
    model = controlledModel(control);
    const controller = new AbortController();
    const request = postChat(
      server.url,
      { ...validBody, model: "openai" },
      {
        signal: controller.signal,
        onEvent: (e) => e.event === "delta" && controller.abort(),
      },
    );
    await expect(request).rejects.toThrow();
    await expect.poll(() => control.aborted, { timeout: 3_000 }).toBe(true);
    await expect.poll(() => logs.some((l) => l.includes("outcome=aborted")), { timeout: 3_000 }).toBe(true);
    model = createOfflineModel();
    for (let i = 0; i < 2; i++) expect((await postChat(server.url, validBody)).status).toBe(200);
  });
});

describe("GET endpoints", () => {
  it("/api/config says what is configured and why not, without secret values", async () => {
    const response = await fetch(`${server.url}/api/config`);
    const text = await response.text();
    expect(text).not.toContain(CANARY);
    const config = JSON.parse(text);
    const models = Object.fromEntries(config.models.map((m: { id: string }) => [m.id, m]));
    expect(models.offline.available).toBe(true);
    expect(models.cml.available).toBe(true);
    expect(models.bedrock).toMatchObject({ available: false });
    expect(models.bedrock.detail).toMatch(/CML_LAB_BEDROCK_MODEL_ID/);
    const stores = Object.fromEntries(config.stores.map((s: { id: string }) => [s.id, s]));
    expect(stores.chroma.detail).toMatch(/CML_LAB_CHROMA_URL/);
    expect(stores.pinecone).toMatchObject({ available: true, detail: "Pinecone index lab-docs" });
    expect(config.defaults).toMatchObject({ model: "offline", store: "local" });
  });

  it("serves the page and its scripts with a Content-Security-Policy, and /healthz", async () => {
    for (const [path, type] of [
      ["/", "text/html"],
      ["/ui/app.js", "text/javascript"],
      ["/ui/render.js", "text/javascript"],
      ["/ui/style.css", "text/css"],
    ]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain(type);
      expect(response.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    }
    expect((await fetch(`${server.url}/ui/../server.ts`)).status).toBe(404);
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ ok: true, ready: true });
  });
});
