// How the local store's cost grows with its size: replicates an index written by ingest (e.g. the 10k-chunk
// PostgreSQL one, see bench/ingest) under new chunk and page ids until it holds N chunks, then reports, per size,
// the time to open it, the memory it takes, and retrieval p50/p95 over the same questions on this thread (the
// cost each retrieval thread of the chat app pays per question). Copies repeat the source text, so BM25's
// posting lists grow with N as they would with more pages of the same kind.
//   npm run build && node bench/app/local-scale.mjs --data-dir DIR [--sizes 10000,50000,100000] [--queries 200]
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ChunkCatalog } from "../../dist/workloads/rag/catalog.js";
import { catalogDir, openRetriever } from "../../dist/workloads/rag/open-retriever.js";
import { LocalStore } from "../../dist/workloads/rag/stores/local.js";

const { values } = parseArgs({
  options: {
    "data-dir": { type: "string" },
    sizes: { type: "string", default: "10000,50000,100000" },
    queries: { type: "string", default: "200" },
  },
});
if (!values["data-dir"]) throw new Error("--data-dir: a data directory with a local index (cml-lab ingest run)");
const QUESTIONS = [
  "How do I create an index concurrently?",
  "What does VACUUM FULL do?",
  "How do I configure streaming replication?",
  "What is the difference between json and jsonb?",
  "How do I grant privileges on a schema?",
  "How does MVCC handle concurrent updates?",
  "How do I write a PL/pgSQL function that returns a table?",
  "What are the isolation levels?",
];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const source = ChunkCatalog.open(catalogDir(values["data-dir"], "local"));
const sourceStore = new LocalStore(source);
const records = [...source.chunks().values()];
// The source's vectors by id, through the store's own reader (private in TypeScript; this is a bench).
const vectors = sourceStore.load();
console.log(`source ${values["data-dir"]}: ${records.length} chunks; load average ${load()}`);
console.log(
  "| chunks | open (wall / CPU) | heap + external after open | retrieval p50 / p95 | CPU per question | load |",
);
console.log("|---|---|---|---|---|---|");

for (const size of values.sizes.split(",").map(Number)) {
  const dataDir = mkdtempSync(join(tmpdir(), "cml-lab-scale-"));
  try {
    const catalog = ChunkCatalog.open(catalogDir(dataDir, "local"));
    const store = new LocalStore(catalog);
    await store.prepare(source.meta, { reset: true });
    // Page by page, as ingest writes them: records in the catalog, vectors (the source's, by source id) in the store.
    const byDoc = new Map();
    for (let n = 0; n < size; n++) {
      const copy = Math.floor(n / records.length);
      const record = records[n % records.length];
      const id =
        copy === 0 ? record.id : createHash("sha256").update(`${copy}:${record.id}`).digest("hex").slice(0, 32);
      const docId = copy === 0 ? record.docId : `copy${copy}/${record.docId}`;
      const list = byDoc.get(docId) ?? [];
      list.push({ record: { ...record, id, docId }, vector: vectors.get(record.id) });
      byDoc.set(docId, list);
    }
    for (const [docId, list] of byDoc) {
      catalog.setDoc(
        docId,
        docId,
        list.map((item) => item.record),
      );
      await store.upsert(list.map((item) => ({ ...item.record, vector: item.vector })));
    }
    await store.flush();
    byDoc.clear();
    global.gc?.();

    const before = process.memoryUsage();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const retriever = await openRetriever({ dataDir, store: "local" });
    await retriever.retrieve(QUESTIONS[0], { k: 5 }); // loads the vectors
    const openMs = performance.now() - t0;
    const openCpu = process.cpuUsage(cpu0);
    global.gc?.();
    const after = process.memoryUsage();
    const times = [];
    const cpu1 = process.cpuUsage();
    for (let i = 0; i < Number(values.queries); i++) {
      const t = performance.now();
      await retriever.retrieve(QUESTIONS[i % QUESTIONS.length], { k: 5 });
      times.push(performance.now() - t);
    }
    const queryCpu = process.cpuUsage(cpu1);
    times.sort((a, b) => a - b);
    const mb = (b) => (b / 2 ** 20).toFixed(0);
    console.log(
      `| ${retriever.describe().chunks} | ${(openMs / 1000).toFixed(1)} s / ${((openCpu.user + openCpu.system) / 1e6).toFixed(1)} s | ` +
        `${mb(after.heapUsed + after.external - before.heapUsed - before.external)} MB | ` +
        `${pct(times, 50).toFixed(1)} / ${pct(times, 95).toFixed(1)} ms | ` +
        `${((queryCpu.user + queryCpu.system) / 1000 / times.length).toFixed(1)} ms | ${load()} |`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
