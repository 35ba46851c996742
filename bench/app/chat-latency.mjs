// Chat app latency with the offline back-end: p50/p95 time to the first `sources` and first `delta` event at
// 1, 10 and 50 concurrent chats, and retrieval latency alone. Run after `npm run build`:
//   node bench/app/chat-latency.mjs [--pages 1000] [--rounds 4] [--data-dir DIR --store local|chroma]
//     [--workers N] [--levels 1,10,50] [--no-warm]
// Without --data-dir it uses a synthetic corpus (the sample pages recombined into N pages) behind a small
// in-memory BM25 retriever, so it measures the app's own overhead. With --data-dir it serves the store the way
// `cml-lab app` does (the local index on N retrieval threads, default one per core, 0 = on the event loop;
// opened and warmed at start) and also reports the time from start to ready and the first chat after it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startChatServer } from "../../dist/workloads/app/listen.js";
import { openRetrieverFor } from "../../dist/workloads/app/retrievers.js";
import { storeChoices } from "../../dist/workloads/app/stores.js";

const { values } = parseArgs({
  options: {
    pages: { type: "string", default: "1000" },
    rounds: { type: "string", default: "4" },
    "data-dir": { type: "string" },
    store: { type: "string", default: "local" },
    levels: { type: "string", default: "1,10,50" },
    workers: { type: "string" },
    // Leave the store closed until the first question, as the app did before it warmed at start (for comparison).
    "no-warm": { type: "boolean", default: false },
  },
});
const root = join(import.meta.dirname, "../..");
const QUESTIONS = [
  "How do for loops iterate over a sequence?",
  "What are list comprehensions?",
  "How do I handle exceptions with try and except?",
  "How do I define a function with default arguments?",
  "What is a module and how do I import it?",
  "How do I read and write files?",
  "What are classes and instances?",
  "How do dictionaries work?",
];

function htmlFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return htmlFiles(path);
    return name.endsWith(".html") ? [path] : [];
  });
}

function paragraphs(html) {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/g, " ")
    .split(/<\/(?:p|pre|li|h\d|dd)>/)
    .map((p) =>
      p
        .replace(/<[^>]+>/g, " ")
        .replace(/&[a-z]+;|&#\d+;/g, " ")
        .replace(/\s+/g, " ")
        .trim(),
    )
    .filter((p) => p.length > 60);
}

const tokenize = (text) => (text.toLowerCase().match(/[a-z0-9_]+/g) ?? []).filter((w) => w.length > 2);

/** In-memory BM25 over ~800-character chunks of `pages` synthetic pages. */
function syntheticRetriever(pageCount) {
  const source = htmlFiles(join(root, "samples/python-docs")).map((f) => paragraphs(readFileSync(f, "utf8")));
  const chunks = [];
  for (let page = 0; page < pageCount; page++) {
    const base = source[page % source.length];
    const rotated = [...base.slice(page % base.length), ...base.slice(0, page % base.length)].slice(0, 12);
    let text = "";
    for (const p of rotated) {
      text += `${p}\n\n`;
      if (text.length > 800) {
        chunks.push({ page, text });
        text = "";
      }
    }
    if (text) chunks.push({ page, text });
  }
  const postings = new Map();
  const lengths = chunks.map((c, i) => {
    const words = tokenize(c.text);
    const tf = new Map();
    for (const w of words) tf.set(w, (tf.get(w) ?? 0) + 1);
    for (const [w, n] of tf) {
      const list = postings.get(w) ?? [];
      if (list.length === 0) postings.set(w, list);
      list.push([i, n]);
    }
    return words.length;
  });
  const avg = lengths.reduce((a, b) => a + b, 0) / lengths.length;
  return {
    chunks: chunks.length,
    describe: () => ({ store: "local", embedder: "bm25-synthetic", chunks: chunks.length }),
    async retrieve(question, options = {}) {
      const scores = new Map();
      for (const term of new Set(tokenize(question))) {
        const list = postings.get(term);
        if (!list) continue;
        const idf = Math.log(1 + (chunks.length - list.length + 0.5) / (list.length + 0.5));
        for (const [i, tf] of list) {
          const s = (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * lengths[i]) / avg));
          scores.set(i, (scores.get(i) ?? 0) + s);
        }
      }
      return [...scores]
        .sort((a, b) => b[1] - a[1])
        .slice(0, options.k ?? 5)
        .map(([i, score], rank) => ({
          n: rank + 1,
          docId: `page-${chunks[i].page}`,
          title: `Page ${chunks[i].page}`,
          section: `Page ${chunks[i].page}`,
          url: `https://docs.example/page-${chunks[i].page}.html`,
          text: chunks[i].text,
          score,
        }));
    },
  };
}

async function realRetriever(dataDir, store) {
  const rag = await import("../../dist/workloads/rag/index.js");
  return rag.openRetriever({
    dataDir,
    store,
    ...(store === "chroma" ? { chroma: { url: process.env.CML_LAB_CHROMA_URL } } : {}),
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${pct(s, 50).toFixed(1)} ms, p95 ${pct(s, 95).toFixed(1)} ms`;
};

/**
 * One chat over node:http with the body in the same write as the headers (undici's fetch writes them apart,
 * which costs a delayed-ACK round of ~40 ms on loopback and would swamp what is measured here).
 */
function chatOnce(url, question) {
  const body = JSON.stringify({ question, model: "offline", store: "local", temperature: 0, maxTokens: 256 });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}/api/chat`,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (response) => {
        if (response.statusCode !== 200) return reject(new Error(`status ${response.statusCode}`));
        let sources;
        let delta;
        let buffer = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => {
          buffer += chunk;
          if (sources === undefined && buffer.includes("event: sources")) sources = performance.now() - started;
          if (delta === undefined && buffer.includes("event: delta")) delta = performance.now() - started;
        });
        response.on("end", () =>
          buffer.includes("event: done") ? resolve({ sources, delta }) : reject(new Error("stream ended without done")),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

const pages = Number(values.pages);
const retriever = values["data-dir"]
  ? await realRetriever(values["data-dir"], values.store)
  : syntheticRetriever(pages);
console.log(
  `load average ${(await import("node:os"))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} on ${(await import("node:os")).availableParallelism()} cores`,
);
console.log(`corpus: ${values["data-dir"] ?? `${pages} synthetic pages`}, ${retriever.describe().chunks} chunks`);

const retrievalTimes = [];
for (let i = 0; i < 200; i++) {
  const t = performance.now();
  await retriever.retrieve(QUESTIONS[i % QUESTIONS.length], { k: 5 });
  retrievalTimes.push(performance.now() - t);
}
console.log(`retrieval alone (200 queries): ${summary(retrievalTimes)}`);

const levels = values.levels.split(",").map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...levels) });
const appEnv = { CML_LAB_MODELS: "offline", CML_LAB_DEFAULT_STORE: values.store };
const workers = values.workers === undefined ? undefined : Number(values.workers);
const startedAt = performance.now();
const server = await startChatServer({
  port: 0,
  env: appEnv,
  stores: storeChoices(appEnv, true),
  // The app's own opener for a data directory (pool of retrieval threads, warmed at start); else the synthetic one.
  openRetriever: values["data-dir"]
    ? openRetrieverFor(values["data-dir"], appEnv, workers === undefined ? {} : { workers })
    : async () => retriever,
  warmAtStart: Boolean(values["data-dir"]) && !values["no-warm"],
  maxConcurrentPerClient: Math.max(...levels),
});
if (values["data-dir"]) {
  // Wait the way a deployment does: poll /healthz until it says ready.
  for (;;) {
    const status = await new Promise((resolve, reject) =>
      http
        .get(`${server.url}/healthz`, { agent }, (r) => r.resume().on("end", () => resolve(r.statusCode)))
        .on("error", reject),
    );
    if (status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const readyMs = performance.now() - startedAt;
  const first = await chatOnce(server.url, QUESTIONS[0]);
  const warm = [];
  for (let i = 0; i < 20; i++) warm.push((await chatOnce(server.url, QUESTIONS[i % QUESTIONS.length])).delta);
  const warmP50 = [...warm].sort((a, b) => a - b)[10];
  console.log(
    `${values["no-warm"] ? "no warm at start: " : ""}start → ready ${readyMs.toFixed(0)} ms (${workers ?? availableParallelism()} retrieval threads); first chat after ready: ` +
      `first delta ${first.delta.toFixed(1)} ms = ${(first.delta / warmP50).toFixed(2)}× the warm p50 (${warmP50.toFixed(1)} ms)`,
  );
}
for (const concurrency of levels) {
  const firstSources = [];
  const firstDelta = [];
  const rounds = Number(values.rounds);
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let round = 0; round < rounds; round++) {
    const results = await Promise.all(
      Array.from({ length: concurrency }, (_, i) => chatOnce(server.url, QUESTIONS[(round + i) % QUESTIONS.length])),
    );
    for (const r of results) {
      firstSources.push(r.sources);
      firstDelta.push(r.delta);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  // CPU per chat (server and client share this process) does not depend on how loaded the machine is.
  const cpuPerChat = (used.user + used.system) / 1000 / firstSources.length;
  console.log(
    `${String(concurrency).padStart(2)} concurrent (${firstSources.length} chats, ${(firstSources.length / seconds).toFixed(0)}/s): ` +
      `first sources ${summary(firstSources)}; first delta ${summary(firstDelta)}; CPU ${cpuPerChat.toFixed(1)} ms/chat`,
  );
}
await server.close();
