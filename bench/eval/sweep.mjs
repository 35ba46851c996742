#!/usr/bin/env node
// Retrieval tuning harness: indexes each corpus once into a cache directory, then scores many HybridRetriever
// option sets against its questions split into dev (odd ids) and test (even ids). Run after `npm run build`:
//   node bench/eval/sweep.mjs OPTIONS.json        (a JSON array of { name, options } or a module path)
// Numbers print per corpus as dev / test / all hit@5 and MRR@10. Choose on dev, read test once.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { listHtmlPages } from "../../dist/lab/docs-site.js";
import { indexPages } from "../../dist/workloads/ingest/index-pages.js";
import { ChunkCatalog } from "../../dist/workloads/rag/catalog.js";
import { createEmbedder } from "../../dist/workloads/rag/embedders/create.js";
import { loadQuestions } from "../../dist/workloads/rag/eval.js";
import { HybridRetriever } from "../../dist/workloads/rag/hybrid.js";
import { LocalStore } from "../../dist/workloads/rag/stores/local.js";

const corpora = [
  { name: "py", dir: "../shared/eval/corpus/python-3.11", questions: "../shared/eval/python-docs-qa.jsonl" },
  {
    name: "pg",
    dir: process.env.PG_DOCS ?? "/usr/share/doc/postgresql-doc-15/html",
    questions: "bench/eval/postgresql-15-qa.jsonl",
  },
].filter((corpus) => existsSync(corpus.dir));

const cacheRoot = process.env.SWEEP_CACHE ?? "/tmp/cml-lab-sweep";
const embedder = await createEmbedder({ kind: "hash" });

async function open(corpus) {
  const dir = join(cacheRoot, corpus.name);
  mkdirSync(dir, { recursive: true });
  const catalog = ChunkCatalog.open(dir);
  const store = new LocalStore(catalog);
  const files = listHtmlPages(corpus.dir);
  await indexPages({
    pages: files.map((file) => {
      const html = readFileSync(join(corpus.dir, file), "utf8");
      return {
        docId: file,
        url: file,
        sha256: createHash("sha256").update(html).digest("hex"),
        read: async () => html,
      };
    }),
    store,
    catalog,
    embedder,
  });
  return { records: catalog.chunks(), store };
}

async function score(retriever, questions) {
  const out = [];
  for (const q of questions) {
    const ranked = [...new Set((await retriever.rankPages(q.question)).map((p) => p.docId))].slice(0, 10);
    const expected = new Set(q.expected);
    out.push({ id: q.id, rank: ranked.findIndex((d) => expected.has(d)) });
  }
  return out;
}

function summary(rows) {
  const n = rows.length || 1;
  const hit5 = rows.filter((r) => r.rank >= 0 && r.rank < 5).length / n;
  const mrr = rows.reduce((s, r) => s + (r.rank >= 0 ? 1 / (r.rank + 1) : 0), 0) / n;
  return `${hit5.toFixed(3)}/${mrr.toFixed(3)}`;
}

const arg = process.argv[2];
const variants = arg ? JSON.parse(readFileSync(resolve(arg), "utf8")) : [{ name: "default", options: {} }];
const opened = [];
for (const corpus of corpora)
  opened.push({ corpus, questions: loadQuestions(corpus.questions), ...(await open(corpus)) });
const odd = (q) => Number(/(\d+)$/.exec(q.id)?.[1]) % 2 === 1;
for (const variant of variants) {
  const parts = [];
  for (const { corpus, questions, records, store } of opened) {
    const retriever = new HybridRetriever(records, store, embedder, "local", variant.options);
    const rows = await score(retriever, questions);
    const dev = rows.filter((r) => odd({ id: r.id }));
    const test = rows.filter((r) => !odd({ id: r.id }));
    parts.push(`${corpus.name} dev ${summary(dev)} test ${summary(test)} all ${summary(rows)}`);
    if (process.env.SWEEP_MISSES)
      parts.push(
        `  missed@5 ${rows
          .filter((r) => r.rank < 0 || r.rank >= 5)
          .map((r) => `${r.id}(${r.rank})`)
          .join(" ")}`,
      );
  }
  console.log(`${variant.name.padEnd(28)} ${parts.join(" | ")}`);
}
