import { resolve } from "node:path";
import { createEmbedder, type EmbedderSpec } from "../rag/embedders/create.js";
import { openStore, type StoreConnection } from "../rag/stores/open-store.js";
import type { ChunkOptions } from "./chunk.js";
import { type IndexEvent, type IndexSummary, indexPages } from "./index-pages.js";
import { pageCacheInputs } from "./page-cache.js";
import { cacheDirectory, readLinks, type ScrapeEvent, type ScrapeSummary, scrapePages } from "./scrape.js";

export interface ScrapeConfig {
  /** A links file: a path or an http(s) URL (one URL a line, or a sitemap). */
  links?: string;
  sitemap?: string;
  /** A local directory of HTML files instead of fetching. */
  dir?: string;
  out: string;
  concurrency?: number;
  allowPrivate?: boolean;
  respectRobots?: boolean;
  /** Share of failed URLs (0..1) above which the run fails. */
  maxFailures?: number;
  timeoutMs?: number;
  retries?: number;
  fetch?: typeof fetch;
}

export interface IndexConfig extends StoreConnection {
  pages: string;
  embedder: EmbedderSpec;
  reindex?: boolean;
  chunk?: ChunkOptions;
}

export interface IngestConfig {
  dataDir: string;
  cwd?: string;
  scrape?: ScrapeConfig;
  index?: IndexConfig;
}

export type IngestEvent = ScrapeEvent | IndexEvent;

export interface IngestResult {
  scrape?: ScrapeSummary;
  index?: IndexSummary;
  /** True when the failure ratio passed `maxFailures`: the caller should exit non-zero. */
  tooManyFailures: boolean;
}

/** `cml-lab ingest scrape|index|run` as a library: no output, only events. */
export async function ingest(
  config: IngestConfig,
  onEvent: (event: IngestEvent) => void = () => {},
): Promise<IngestResult> {
  const cwd = config.cwd ?? process.cwd();
  const result: IngestResult = { tooManyFailures: false };
  // Before scraping: a wrong embedder setting (a missing model directory) must not cost a whole scrape first.
  const embedder = config.index ? createEmbedder(config.index.embedder) : undefined;
  if (config.scrape) {
    const scrape = config.scrape;
    const out = resolve(cwd, scrape.out);
    if (scrape.dir) {
      result.scrape = cacheDirectory(resolve(cwd, scrape.dir), out);
      onEvent({ type: "scrape-done", summary: result.scrape });
    } else {
      const location = scrape.links ?? scrape.sitemap ?? "";
      const urls = await readLinks(location, { cwd, fetch: scrape.fetch, allowPrivate: scrape.allowPrivate });
      result.scrape = await scrapePages({
        urls,
        out,
        source: location,
        concurrency: scrape.concurrency,
        allowPrivate: scrape.allowPrivate,
        respectRobots: scrape.respectRobots,
        timeoutMs: scrape.timeoutMs,
        retries: scrape.retries,
        fetch: scrape.fetch,
        onEvent,
      });
    }
    const ratio = result.scrape.urls ? result.scrape.failures.length / result.scrape.urls : 0;
    result.tooManyFailures = ratio > (scrape.maxFailures ?? 0.1);
  }
  if (config.index && embedder && !result.tooManyFailures) {
    const index = config.index;
    const { store, catalog } = await openStore(resolve(cwd, config.dataDir), index);
    result.index = await indexPages({
      pages: pageCacheInputs(resolve(cwd, index.pages)),
      store,
      catalog,
      embedder,
      reindex: index.reindex,
      chunk: index.chunk,
      onEvent,
    });
  }
  return result;
}
