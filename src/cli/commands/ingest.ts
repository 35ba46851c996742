/**
 * `cml-lab ingest scrape|index|run`: the lab's scrape job and its dependent populate job (or both in one
 * process). Handlers only parse flags and render events; the work is `ingest()` in src/workloads/ingest.
 */
import { resolve } from "node:path";
import type { Argv } from "yargs";
import { numberOption, storeDirOption } from "../../shared/cli-options.js";
import { UserError } from "../../shared/errors.js";
import { type CliCommand, type CommandContext, defineCommand } from "../../shared/run-cli.js";
import { loadWorkload } from "../../shared/workload-packages.js";
import { defaultDataDir } from "../../workloads/app/retrievers.js";
import type { IngestConfig } from "../../workloads/ingest/ingest.js";
import { INGEST_PACKAGES } from "../../workloads/ingest/packages.js";
import { type EmbedderArgs, embedderOptions, embedderSpec } from "./embedder-options.js";
import { progressRenderer } from "./ingest-progress.js";

interface CommonArgs {
  "data-dir": string | undefined;
}
interface ScrapeArgs extends CommonArgs {
  links: string | undefined;
  sitemap: string | undefined;
  dir: string | undefined;
  out: string | undefined;
  concurrency: number;
  "allow-private": boolean;
  robots: boolean;
  "max-failures": number;
  timeout: number;
  retries: number;
}
interface IndexArgs extends CommonArgs, EmbedderArgs {
  pages: string | undefined;
  store: "local" | "chroma" | "pinecone";
  "chroma-url": string | undefined;
  "pinecone-index": string | undefined;
  "pinecone-namespace": string | undefined;
  "pinecone-host": string | undefined;
  collection: string | undefined;
  reindex: boolean;
  "chunk-tokens": number;
  overlap: number;
}

function dataDir(ctx: CommandContext, args: CommonArgs): string {
  return defaultDataDir(ctx.io.env, ctx.io.cwd, args["data-dir"]);
}

const common = <T>(y: Argv<T>) =>
  storeDirOption(y, "Page cache, local store and lexical index (default: CML_LAB_DATA, else ./data)");

const scrapeOptions = <T>(y: Argv<T>) =>
  common(y)
    .option("links", { type: "string", describe: "Links file (one URL a line): a path or an http(s) URL" })
    .option("sitemap", { type: "string", describe: "Sitemap URL or file instead of a links file" })
    .option("dir", { type: "string", describe: "A local directory of HTML files instead of fetching" })
    .option("out", { type: "string", describe: "Page cache directory (default: <data-dir>/pages)" })
    .option(
      "concurrency",
      numberOption(
        "concurrency",
        { min: 1, max: 64, integer: true },
        {
          default: 4,
          describe: "Requests in flight (at most 2 per host)",
        },
      ),
    )
    .option("allow-private", {
      type: "boolean",
      default: false,
      describe: "Allow loopback and private addresses (the local platform's docs site)",
    })
    .option("robots", { type: "boolean", default: true, describe: "Respect robots.txt (--no-robots to ignore)" })
    .option(
      "max-failures",
      numberOption(
        "max-failures",
        { min: 0, max: 1 },
        {
          default: 0.1,
          describe: "Fail the run when more than this share of URLs fails",
        },
      ),
    )
    .option("timeout", numberOption("timeout", { min: 1, max: 600 }, { default: 30, describe: "Seconds per request" }))
    .option(
      "retries",
      numberOption(
        "retries",
        { min: 0, max: 20, integer: true },
        {
          default: 3,
          describe: "Retries on 429, 5xx and network errors",
        },
      ),
    );

const indexOptions = <T>(y: Argv<T>) =>
  embedderOptions(
    common(y)
      .option("pages", { type: "string", describe: "Page cache directory (default: <data-dir>/pages)" })
      .option("store", { choices: ["local", "chroma", "pinecone"] as const, default: "local" as const }),
  )
    .option("pinecone-index", { type: "string", describe: "Pinecone index (key from PINECONE_API_KEY)" })
    .option("pinecone-namespace", { type: "string", describe: "Pinecone namespace (default: cml-lab-docs)" })
    .option("pinecone-host", { type: "string", describe: "Pinecone data-plane host (default: looked up)" })
    .option("chroma-url", { type: "string", describe: "Chroma server URL (default: CHROMA_URL)" })
    .option("collection", { type: "string", describe: "Chroma collection (default: cml-lab-docs)" })
    .option("reindex", {
      type: "boolean",
      default: false,
      describe: "Rebuild a store built with another embedder (a new chunker re-chunks in place without it)",
    })
    .option(
      "chunk-tokens",
      numberOption(
        "chunk-tokens",
        { min: 16, max: 8_192, integer: true },
        { default: 300, describe: "Chunk budget in tokens" },
      ),
    )
    .option(
      "overlap",
      numberOption(
        "overlap",
        { min: 0, max: 0.5 },
        { default: 0.12, describe: "Share of a chunk repeated in the next" },
      ),
    );

function scrapeConfig(ctx: CommandContext, args: ScrapeArgs): NonNullable<IngestConfig["scrape"]> {
  const sources = [args.links, args.sitemap, args.dir].filter(Boolean);
  if (sources.length !== 1) throw new UserError("name exactly one source: --links, --sitemap or --dir");
  return {
    links: args.links,
    sitemap: args.sitemap,
    dir: args.dir,
    out: args.out ?? resolve(dataDir(ctx, args), "pages"),
    concurrency: args.concurrency,
    allowPrivate: args["allow-private"],
    respectRobots: args.robots,
    maxFailures: args["max-failures"],
    timeoutMs: args.timeout * 1000,
    retries: args.retries,
  };
}

function indexConfig(ctx: CommandContext, args: IndexArgs): NonNullable<IngestConfig["index"]> {
  const chromaUrl = args["chroma-url"] ?? ctx.io.env.CHROMA_URL;
  return {
    pages: args.pages ?? resolve(dataDir(ctx, args), "pages"),
    store: args.store,
    embedder: embedderSpec(ctx, args),
    reindex: args.reindex,
    chunk: { maxTokens: args["chunk-tokens"], overlap: args.overlap },
    ...(chromaUrl ? { chroma: { url: chromaUrl, collection: args.collection } } : {}),
    ...(args.store === "pinecone"
      ? {
          pinecone: {
            apiKey: ctx.io.env.PINECONE_API_KEY ?? "",
            index: args["pinecone-index"] ?? ctx.io.env.PINECONE_INDEX ?? "",
            namespace: args["pinecone-namespace"],
            host: args["pinecone-host"],
            // Where a missing index is created; defaults in stores/pinecone.ts (aws, us-east-1).
            cloud: ctx.io.env.PINECONE_CLOUD,
            region: ctx.io.env.PINECONE_REGION,
          },
        }
      : {}),
  };
}

async function runIngest(ctx: CommandContext, config: IngestConfig): Promise<void> {
  const { ingest } = await loadWorkload(
    "cml-lab ingest",
    INGEST_PACKAGES,
    () => import("../../workloads/ingest/ingest.js"),
  );
  const result = await ingest({ ...config, cwd: ctx.io.cwd }, progressRenderer(ctx.io));
  if (result.tooManyFailures && result.scrape) {
    throw new UserError(
      `${result.scrape.failures.length} of ${result.scrape.urls} URLs failed, more than --max-failures allows`,
      { notes: ["the failures are listed above; fix the links or raise --max-failures"] },
    );
  }
}

export const ingestCommand: CliCommand = (ctx) =>
  defineCommand<object>({
    command: "ingest",
    describe: "Scrape doc pages and index them (chunks, embeddings, vector store, lexical index)",
    builder: (y) =>
      y
        .command({
          command: "scrape",
          describe: "Fetch pages into the page cache",
          builder: (y: Argv) =>
            scrapeOptions(y)
              .example("$0 ingest scrape --links html_links.txt", "fetch the listed pages into data/pages")
              .example("$0 ingest scrape --dir samples/python-docs", "take local HTML files instead of fetching"),
          handler: (args: ScrapeArgs) =>
            runIngest(ctx, { dataDir: dataDir(ctx, args), scrape: scrapeConfig(ctx, args) }),
        })
        .command({
          command: "index",
          describe: "Extract, chunk, embed and upsert the page cache (idempotent)",
          builder: (y: Argv) =>
            indexOptions(y)
              .example("$0 ingest index", "chunk, embed and index data/pages into the local store")
              .example(
                "$0 ingest index --store chroma --chroma-url http://127.0.0.1:8000",
                "upsert into a Chroma server instead",
              ),
          handler: (args: IndexArgs) => runIngest(ctx, { dataDir: dataDir(ctx, args), index: indexConfig(ctx, args) }),
        })
        .command({
          command: "run",
          describe: "scrape, then index, in one process",
          builder: (y: Argv) =>
            indexOptions(scrapeOptions(y))
              .example("$0 ingest run --dir samples/python-docs", "scrape and index the bundled sample docs")
              .example(
                "$0 ingest run --links http://127.0.0.1:8200/html_links.txt --allow-private",
                "from a `cml-lab docs-site` on this machine",
              ),
          handler: (args: ScrapeArgs & IndexArgs) => {
            const scrape = scrapeConfig(ctx, args);
            return runIngest(ctx, {
              dataDir: dataDir(ctx, args),
              scrape,
              index: { ...indexConfig(ctx, args), pages: args.pages ?? scrape.out },
            });
          },
        })
        .demandCommand(1, "Name an ingest command: scrape, index or run")
        .example("$0 ingest run --dir samples/python-docs", "scrape and index in one process")
        .example("$0 ingest scrape --links html_links.txt && $0 ingest index", "the same in two steps"),
    handler: () => undefined,
  });
