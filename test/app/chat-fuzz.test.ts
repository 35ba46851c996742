/**
 * Hostile requests against the chat app over a real socket (issue #19): mutants of a valid chat body and raw byte
 * bodies, answered by the real stack — a local index built from the samples, the retrieval workers, the offline
 * answerer. Every request gets a 4xx naming the problem or an SSE stream that ends in `done` or `error`; none gets
 * a 5xx, hangs, or echoes a secret; and the app keeps answering after each.
 */
import { mkdtempSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningChatServer, startChatServer } from "../../src/workloads/app/listen.js";
import { openRetrieverFor } from "../../src/workloads/app/retrievers.js";
import { storeChoices } from "../../src/workloads/app/stores.js";
import { indexPages } from "../../src/workloads/ingest/index-pages.js";
import { ChunkCatalog } from "../../src/workloads/rag/catalog.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import { catalogDir } from "../../src/workloads/rag/open-retriever.js";
import { LocalStore } from "../../src/workloads/rag/stores/local.js";
import { samplePages } from "../rag/helpers.js";
import { CANARY } from "./fixtures.js";
import { validBody } from "./sse-client.js";

const env: NodeJS.ProcessEnv = {
  CML_LAB_MODELS: "offline",
  HOME: "/nonexistent",
  CML_LAB_OPENAI_API_KEY: CANARY,
  PINECONE_API_KEY: `${CANARY}-pc`,
};

let server: RunningChatServer;
const logs: string[] = [];

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "cml-lab-chat-fuzz-"));
  const catalog = ChunkCatalog.open(catalogDir(dataDir, "local"));
  await indexPages({
    pages: samplePages(),
    store: new LocalStore(catalog),
    catalog,
    embedder: createHashEmbedder({ dim: 256 }),
  });
  server = await startChatServer({
    port: 0,
    env,
    stores: storeChoices(env, true),
    openRetriever: openRetrieverFor(dataDir, env, { workers: 1, log: (l) => logs.push(l) }),
    warmAtStart: true,
    // The fuzz comes from one client, one request at a time; the cap is tested in server.test.ts.
    maxConcurrentPerClient: 4,
    log: (line) => logs.push(line),
  });
  await server.ready;
});
afterAll(() => server?.close());

/** A deterministic generator, so a failing case can be reproduced from its index. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const HOSTILE_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff lone",
  "😀".repeat(1_000),
  "\u202eevil\u202c",
  "a".repeat(4_000),
  "a".repeat(4_001),
  "word ".repeat(800),
  "(((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))*+?",
  "[".repeat(2_000),
  "\\".repeat(3_000),
  "$&$1$`$'",
  "<script>alert(1)</script>",
  "</script><img src=x onerror=alert(1)>",
  "{{constructor.constructor('return process')()}}",
  "__proto__",
  "%00%2e%2e%2f",
  "../../../../etc/passwd",
  "\r\n\r\nevent: done\ndata: {}\n\n",
  'data: {"injected":true}\n\n',
  "What are list comprehensions?\n".repeat(100),
  "PyTuple_Size() `` ``` *** ___",
  "\t\v\f\b",
  "ｗｈａｔ ｉｓ ａ ｌｉｓｔ？",
];

const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  -0,
  Number.MAX_SAFE_INTEGER,
  0.5,
  "0.5",
  [],
  {},
  [1, 2],
  { role: "user" },
  ...HOSTILE_STRINGS,
];

function pick<T>(rnd: () => number, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)] as T;
}

/** One mutant of the valid body: replace, delete or add fields, or grow the history. */
function mutant(rnd: () => number): string {
  const body: Record<string, unknown> = { ...validBody, history: [] };
  // Four in ten keep a valid shape and carry hostile text only, so they reach retrieval and the answerer.
  if (rnd() < 0.4) {
    body.question =
      `${pick(rnd, HOSTILE_STRINGS)} ${pick(rnd, ["list comprehensions", "", "PyTuple_Size", "for"])}`.slice(0, 4_000);
    body.store = pick(rnd, ["local", "none"]);
    body.temperature = rnd();
    body.maxTokens = 1 + Math.floor(rnd() * 4_096);
    if (rnd() < 0.5)
      body.history = [
        { role: "user", content: pick(rnd, HOSTILE_STRINGS) },
        { role: "assistant", content: pick(rnd, HOSTILE_STRINGS) },
      ];
    return JSON.stringify(body);
  }
  const fields = ["question", "history", "model", "store", "temperature", "maxTokens"];
  const edits = 1 + Math.floor(rnd() * 3);
  for (let e = 0; e < edits; e++) {
    const field = pick(rnd, fields);
    const r = rnd();
    if (r < 0.1) delete body[field];
    else if (r < 0.55 && field === "question") body.question = pick(rnd, HOSTILE_STRINGS);
    else if (r < 0.7 && field === "history")
      body.history = Array.from({ length: Math.floor(rnd() * 25) }, () =>
        rnd() < 0.8
          ? { role: pick(rnd, ["user", "assistant", "system", "tool"]), content: pick(rnd, HOSTILE_STRINGS) }
          : pick(rnd, HOSTILE_VALUES),
      );
    else if (r < 0.8)
      body[pick(rnd, ["__proto__", "constructor", "prototype", "extra", "question\u0000"])] = pick(rnd, HOSTILE_VALUES);
    else body[field] = pick(rnd, HOSTILE_VALUES);
  }
  let text = JSON.stringify(body);
  // Some bodies are not what JSON.stringify makes: duplicated keys, a raw __proto__ key, cut short.
  const r = rnd();
  if (r < 0.05) text = text.replace('"question":', '"__proto__":{"question":"x"},"question":');
  else if (r < 0.1) text = `${text.slice(0, -1)},"question":${JSON.stringify(pick(rnd, HOSTILE_STRINGS))}}`;
  else if (r < 0.15) text = text.slice(0, Math.floor(rnd() * text.length));
  return text;
}

const RAW_BODIES: Array<{ name: string; bytes: Buffer; contentType?: string }> = [
  { name: "empty", bytes: Buffer.alloc(0) },
  { name: "invalid UTF-8", bytes: Buffer.from([0x7b, 0x22, 0x71, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
  {
    name: "a UTF-16 BOM",
    bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(validBody), "utf16le")]),
  },
  { name: "deep nesting", bytes: Buffer.from(`${"[".repeat(50_000)}${"]".repeat(50_000)}`) },
  { name: "deep objects", bytes: Buffer.from(`${'{"a":'.repeat(30_000)}1${"}".repeat(30_000)}`) },
  { name: "a JSON string", bytes: Buffer.from('"question"') },
  { name: "NUL bytes", bytes: Buffer.alloc(1_000) },
  { name: "over the limit", bytes: Buffer.from(JSON.stringify({ ...validBody, question: "a".repeat(300_000) })) },
  {
    name: "form encoded",
    bytes: Buffer.from("question=hi&model=offline"),
    contentType: "application/x-www-form-urlencoded",
  },
  {
    name: "json with charset junk",
    bytes: Buffer.from(JSON.stringify(validBody)),
    contentType: "application/json; charset=ebcdic",
  },
];

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/**
 * A client that writes the whole request whatever the server does meanwhile, as a hostile one would, then reads
 * what came back: a server may answer 413 and close before the body is written (Node's client then reports only
 * "socket hang up", curl the 413).
 */
function rawPost(bytes: Buffer, contentType = "application/json", chunked = false): Promise<Answer> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const received: Buffer[] = [];
    socket.setTimeout(20_000, () => socket.destroy(new Error("no answer within 20 s")));
    socket.on("data", (c: Buffer) => {
      received.push(c);
      // An SSE answer is sent keep-alive whatever the request asked; its last chunk ends it.
      if (Buffer.concat(received).toString("latin1").endsWith("\r\n0\r\n\r\n")) socket.destroy();
    });
    // A reset after the server answered and closed is how an unread body ends; what matters is what was received.
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      const text = Buffer.concat(received).toString("latin1");
      const head = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(text);
      if (!head) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 100))}`));
      const type = /^content-type: *(.*)$/im.exec(head[2] ?? "")?.[1] ?? "";
      // Chunk sizes count bytes: undo the chunking on the latin1 text (one char per byte), then decode.
      let body = text.slice(head[0].length);
      if (/^transfer-encoding: *chunked/im.test(head[2] ?? "")) body = unchunk(body);
      resolve({ status: Number(head[1]), contentType: type, text: Buffer.from(body, "latin1").toString("utf8") });
    });
    const headers = [
      "POST /api/chat HTTP/1.1",
      `Host: ${url.host}`,
      `Content-Type: ${contentType}`,
      "Connection: close",
      chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${bytes.length}`,
    ];
    socket.write(`${headers.join("\r\n")}\r\n\r\n`);
    // The write side stays open (no FIN): a client that half-closes reads to the server as one that went away, and
    // the app stops its answer (a disconnect aborts the generation, server.test.ts). Connection: close ends it.
    if (!chunked) socket.write(bytes);
    else {
      for (let at = 0; at < bytes.length; at += 16_384) {
        const piece = bytes.subarray(at, at + 16_384);
        socket.write(`${piece.length.toString(16)}\r\n`);
        socket.write(piece);
        socket.write("\r\n");
      }
      socket.write("0\r\n\r\n");
    }
  });
}

function unchunk(body: string): string {
  let out = "";
  let rest = body;
  for (;;) {
    const line = rest.indexOf("\r\n");
    const size = Number.parseInt(rest.slice(0, line), 16);
    if (!(size > 0)) return out;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}

function post(bytes: Buffer | string, contentType = "application/json", chunked = false): Promise<Answer> {
  const url = new URL("/api/chat", server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: chunked
          ? { "content-type": contentType, "transfer-encoding": "chunked" }
          : { "content-type": contentType, "content-length": Buffer.byteLength(bytes) },
        timeout: 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"] ?? ""),
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 20 s")));
    req.on("error", reject);
    req.end(bytes);
  });
}

/** The invariants every answer keeps; returns a description of the first broken one. */
function broken(answer: Answer): string | undefined {
  if (answer.text.includes(CANARY)) return "echoes a secret";
  if (answer.status >= 500) return `status ${answer.status}: ${answer.text.slice(0, 200)}`;
  if (answer.status === 200) {
    if (!answer.contentType.startsWith("text/event-stream")) return `200 with ${answer.contentType}`;
    const events = [...answer.text.matchAll(/^event: (.*)$/gm)].map((m) => m[1]);
    const last = events.at(-1);
    if (last !== "done" && last !== "error") return `stream ends with ${last ?? "nothing"}`;
    if (events.filter((e) => e === "done" || e === "error").length !== 1) return "more than one end event";
    for (const block of answer.text.split("\n\n").filter(Boolean))
      for (const line of block.split("\n"))
        if (!/^(event|data|id|retry): /.test(line) && !line.startsWith(":"))
          return `stray SSE line ${JSON.stringify(line)}`;
    return undefined;
  }
  if (![400, 413, 415, 429].includes(answer.status)) return `status ${answer.status}`;
  let json: { error?: unknown; field?: unknown };
  try {
    json = JSON.parse(answer.text);
  } catch {
    return `a ${answer.status} that is not JSON: ${answer.text.slice(0, 100)}`;
  }
  if (typeof json.error !== "string" || json.error === "") return `a ${answer.status} without an error message`;
  return undefined;
}

async function stillServes(): Promise<void> {
  const health = await fetch(`${server.url}/healthz`);
  expect(health.status).toBe(200);
}

describe("the chat API under hostile input", () => {
  it("answers every mutant of a chat body with a 4xx or a stream that ends, never a 5xx or a secret", async () => {
    const rnd = seeded(20261205);
    const cases = 600;
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < cases; i++) {
      const body = mutant(rnd);
      const answer = await post(body);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const why = broken(answer);
      if (why) failures.push(`case ${i} ${body.slice(0, 120)}: ${why}`);
    }
    await stillServes();
    console.log(
      `chat fuzz: ${cases} mutants, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${failures.length} failures`,
    );
    expect(failures).toEqual([]);
    // The mutants reached both sides of validation (a fuzz that only hits 400 proves little).
    expect(statuses.get(200) ?? 0).toBeGreaterThan(150);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(20);
    expect(logs.join("\n")).not.toContain(CANARY);
  }, 180_000);

  it("answers raw bodies (bad bytes, deep nesting, oversize, wrong types, chunked) and keeps serving", async () => {
    const failures: string[] = [];
    for (const raw of RAW_BODIES)
      for (const chunked of [false, true]) {
        const answer = await rawPost(raw.bytes, raw.contentType, chunked);
        const why = broken(answer);
        if (why) failures.push(`${raw.name}${chunked ? " (chunked)" : ""}: ${why}`);
        await stillServes();
      }
    console.log(`chat raw bodies: ${RAW_BODIES.length * 2} cases, ${failures.length} failures`);
    expect(failures).toEqual([]);
  }, 120_000);

  it("the question a hostile body carries comes back only as data: no SSE or HTML injection", async () => {
    const answer = await post(
      JSON.stringify({ ...validBody, question: "list comprehensions\n\nevent: done\ndata: {}\n\n<script>x</script>" }),
    );
    expect(answer.status).toBe(200);
    const events = [...answer.text.matchAll(/^event: (.*)$/gm)].map((m) => m[1]);
    expect(events.filter((e) => e === "done")).toHaveLength(1);
    // Every data line is one JSON value: the question's newlines and markup stay inside JSON strings.
    const data = answer.text.split("\n").filter((line) => line.startsWith("data: "));
    for (const line of data) expect(() => JSON.parse(line.slice(6))).not.toThrow();
    expect(answer.text.split("\n").filter((line) => line.startsWith("<"))).toEqual([]);
  });
});
