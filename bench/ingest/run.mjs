// Ingest benchmark: throughput of the index step (extract + chunk + hash-embed + local store) and the time of a
// no-op re-run. A corpus may be replicated under different document ids to reach a size (python-3.11 x3 gives
// 1,146 pages). By default it measures the two corpora the eval uses: the 1,169-page PostgreSQL 15 docs
// (bench/eval/corpus.mjs installs them; ~15 KB of HTML a page) and the python-3.11 docs x3 (~89 KB a page).
// Usage: npm run build && node bench/ingest/run.mjs [corpus-dir[:copies] ...] [--workers N]
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { indexPages } from "../../dist/workloads/ingest/index-pages.js";
import { pageCacheInputs } from "../../dist/workloads/ingest/page-cache.js";
import { cacheDirectory } from "../../dist/workloads/ingest/scrape.js";
import { ChunkCatalog } from "../../dist/workloads/rag/catalog.js";
import { createHashEmbedder } from "../../dist/workloads/rag/embedders/hash.js";
import { LocalStore } from "../../dist/workloads/rag/stores/local.js";

const args = process.argv.slice(2);
const flag = args.indexOf("--workers");
const workers = flag >= 0 ? Number(args.splice(flag, 2)[1]) : undefined;
const defaults = [
  `${process.env.PG_DOCS ?? "/usr/share/doc/postgresql-doc-15/html"}:1`,
  "../shared/eval/corpus/python-3.11:3",
].filter((spec) => existsSync(spec.replace(/:\d+$/, "")));
const load = () => loadavg().map((l) => Number(l.toFixed(1)));

for (const spec of args.length ? args : defaults) {
  const [, corpus = spec, copies = "1"] = /^(.*?)(?::(\d+))?$/.exec(spec) ?? [];
  process.stdout.write(`${JSON.stringify(await bench(corpus, Number(copies)), null, 2)}\n`);
}

async function bench(corpus, copies) {
  const work = mkdtempSync(join(tmpdir(), "cml-lab-bench-"));
  try {
    const source = join(work, "corpus");
    for (let copy = 1; copy <= copies; copy++) cpSync(corpus, join(source, `copy${copy}`), { recursive: true });
    const pagesDir = join(work, "pages");
    const cached = cacheDirectory(source, pagesDir);
    const embedder = createHashEmbedder();
    const index = async () => {
      const catalog = ChunkCatalog.open(join(work, "index"));
      return indexPages({
        pages: pageCacheInputs(pagesDir),
        store: new LocalStore(catalog),
        catalog,
        embedder,
        workers,
      });
    };
    const loadBefore = load();
    const cpuBefore = process.cpuUsage();
    const first = await index();
    const cpu = process.cpuUsage(cpuBefore);
    const loadAfter = load();
    const noop = await index();
    return {
      corpus: copies > 1 ? `${corpus} x${copies}` : corpus,
      machine: {
        cpus: cpus().length,
        availableParallelism: availableParallelism(),
        load: { before: loadBefore, after: loadAfter },
      },
      pages: cached.kept,
      chunks: first.chunksTotal,
      index: {
        seconds: Number(first.seconds.toFixed(2)),
        pagesPerSecond: Number((first.pages / first.seconds).toFixed(1)),
        workerThreads: first.workerThreads,
        // Thread-seconds per phase: with workers, extract/chunk/embed run in parallel and sum past `seconds`.
        phases: first.phases,
        // All threads of the process: what the index step costs independent of how busy the machine is.
        processCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      },
      noop: { seconds: Number(noop.seconds.toFixed(2)), embeddedTexts: noop.embeddedTexts, unchanged: noop.unchanged },
      targets: { pagesPerSecond: 150, noopSeconds: 2 },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
