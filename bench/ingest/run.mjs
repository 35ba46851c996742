// Ingest benchmark: throughput of the index step (extract + chunk + hash-embed + local store) and the time of a
// no-op re-run over >= 1,000 pages. The corpus is replicated under different document ids to reach the size.
// Usage: npm run build && node bench/ingest/run.mjs [corpus-dir] [copies]
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { indexPages } from "../../dist/workloads/ingest/index-pages.js";
import { pageCacheInputs } from "../../dist/workloads/ingest/page-cache.js";
import { cacheDirectory } from "../../dist/workloads/ingest/scrape.js";
import { ChunkCatalog } from "../../dist/workloads/rag/catalog.js";
import { createHashEmbedder } from "../../dist/workloads/rag/embedders/hash.js";
import { LocalStore } from "../../dist/workloads/rag/stores/local.js";

const corpus = process.argv[2] ?? "/work/shared/eval/corpus/python-3.11";
const copies = Number(process.argv[3] ?? 3);
const work = mkdtempSync(join(tmpdir(), "cml-lab-bench-"));
try {
  const source = join(work, "corpus");
  for (let copy = 1; copy <= copies; copy++) cpSync(corpus, join(source, `copy${copy}`), { recursive: true });
  const pagesDir = join(work, "pages");
  const cached = cacheDirectory(source, pagesDir);
  const embedder = createHashEmbedder();
  const index = async () => {
    const catalog = ChunkCatalog.open(join(work, "index"));
    return indexPages({ pages: pageCacheInputs(pagesDir), store: new LocalStore(catalog), catalog, embedder });
  };
  const first = await index();
  const noop = await index();
  const result = {
    machine: { cpus: cpus().length, load: (await import("node:os")).loadavg().map((l) => Number(l.toFixed(1))) },
    pages: cached.kept,
    chunks: first.chunksTotal,
    index: {
      seconds: Number(first.seconds.toFixed(1)),
      pagesPerSecond: Number((first.pages / first.seconds).toFixed(1)),
    },
    noop: { seconds: Number(noop.seconds.toFixed(2)), embeddedTexts: noop.embeddedTexts, unchanged: noop.unchanged },
    targets: { pagesPerSecond: 150, noopSeconds: 2 },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
