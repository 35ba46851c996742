import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import pLimit from "p-limit";
import { discardBody } from "../../shared/discard-body.js";
import { UserError } from "../../shared/errors.js";
import { retry, retryAfterMs } from "../../shared/retry.js";
import { extractCanonical } from "./canonical.js";
import { listHtmlPages } from "./html-pages.js";
import {
  type CachedPage,
  cacheFileFor,
  type FailedPage,
  type PageCacheManifest,
  readPageCache,
  sha256,
  writeCachedHtml,
  writePageCache,
} from "./page-cache.js";
import { parseRobots, type RobotsRules } from "./robots.js";
import { assertPublicHost, privateAddressCause, publicFetch, type Resolve } from "./ssrf.js";

export const USER_AGENT = "cml-lab-ingest/0.1 (+https://github.com/cloudera/CML_llm-hol)";

export interface ScrapeOptions {
  /** Absolute page URLs (from a links file or a sitemap). */
  urls: readonly string[];
  out: string;
  /** Human-readable origin of the list, recorded in the manifest. */
  source: string;
  concurrency?: number;
  /** At most this many requests in flight to one host, with `hostDelayMs` between their starts. */
  perHost?: number;
  hostDelayMs?: number;
  timeoutMs?: number;
  retries?: number;
  maxBytes?: number;
  maxRedirects?: number;
  respectRobots?: boolean;
  allowPrivate?: boolean;
  fetch?: typeof fetch;
  /** Name resolution for the private-address guard (tests play a rebinding DNS server with it). */
  resolve?: Resolve;
  onEvent?: (event: ScrapeEvent) => void;
}

export type ScrapeEvent =
  | { type: "scrape-start"; urls: number }
  | {
      type: "fetched";
      url: string;
      status: "new" | "changed" | "unchanged" | "not-modified" | "failed";
      reason?: string;
    }
  | { type: "retry"; url: string; attempt: number; waitMs: number; reason: string }
  | { type: "scrape-done"; summary: ScrapeSummary };

export interface ScrapeSummary {
  urls: number;
  kept: number;
  notModified: number;
  failures: FailedPage[];
  removed: number;
  seconds: number;
}

class FetchFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** What one fetch attempt's error means: ours as thrown; a refused private address is final; the network's is worth another try. */
function asFetchFailure(error: unknown): FetchFailure {
  if (error instanceof FetchFailure) return error;
  const refused = privateAddressCause(error);
  if (refused) return new FetchFailure(refused.message, false);
  return new FetchFailure(error instanceof Error ? `${error.name}: ${error.message}` : String(error), true);
}

/** Reads a links file (one URL a line, `#` comments) from a path or an http(s) URL. */
export async function readLinks(
  location: string,
  options: { cwd: string; fetch?: typeof fetch; allowPrivate?: boolean; resolve?: Resolve },
): Promise<string[]> {
  let text: string;
  if (/^https?:\/\//i.test(location)) {
    const url = new URL(location);
    const guarded = options.allowPrivate || options.fetch ? undefined : publicFetch(options.resolve);
    try {
      if (!options.allowPrivate) await assertPublicHost(url, options.resolve);
      const response = await (options.fetch ?? guarded?.fetch ?? fetch)(url, { signal: AbortSignal.timeout(30_000) });
      if (!response.ok) throw new UserError(`cannot read links from ${location}: HTTP ${response.status}`);
      text = await response.text();
    } catch (error) {
      const refused = privateAddressCause(error);
      if (!refused) throw error;
      // The links URL is the user's input: say what was refused and how to allow it, not "internal error".
      throw new UserError(
        `cannot read links from ${location}: ${refused.host} resolves to private address ${refused.address}`,
        { notes: ["pass --allow-private if you mean to read from your own network"] },
      );
    } finally {
      await guarded?.close();
    }
  } else {
    const file = join(options.cwd, location);
    const path = existsSync(location) ? location : file;
    if (!existsSync(path)) throw new UserError(`no links file at ${location}`);
    text = readFileSync(path, "utf8");
  }
  if (/<urlset|<sitemapindex/.test(text))
    return [...text.matchAll(/<loc>\s*([^<\s]+)\s*<\/loc>/g)].map((m) => m[1] ?? "");
  const urls: string[] = [];
  // Every bad line is reported in one run (like `deploy validate`), not one per run.
  const bad: { where: string; message: string }[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const url = URL.canParse(line) ? new URL(line) : undefined;
    if (url && (url.protocol === "http:" || url.protocol === "https:")) urls.push(url.href);
    else {
      const column = raw.length - raw.trimStart().length + 1;
      bad.push({ where: `${location}:${index + 1}:${column}`, message: `not an http(s) URL: ${line}` });
    }
  });
  const [first, ...rest] = bad;
  if (first) {
    throw new UserError(first.message, {
      location: first.where,
      notes: [
        ...rest.map((b) => `${b.where}: error: ${b.message}`),
        ...(rest.length > 0 ? [`${bad.length} lines of ${location} are not http(s) URLs`] : []),
      ],
    });
  }
  return urls;
}

/** Politeness first: a server that throttles is given at least a second, never more than 30 s. */
const SCRAPE_BACKOFF = { minDelayMs: 1_000, maxDelayMs: 30_000 };

/**
 * Fetches pages into the page cache with bounded concurrency, per-host politeness, retries with backoff on
 * 429/5xx and network errors (honouring Retry-After), redirect and size caps, robots.txt, conditional GET
 * against the previous run, and an SSRF guard on every hop. Failures are collected, never thrown.
 */
export async function scrapePages(options: ScrapeOptions): Promise<ScrapeSummary> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => {});
  const guarded = options.allowPrivate || options.fetch ? undefined : publicFetch(options.resolve);
  const doFetch = options.fetch ?? guarded?.fetch ?? fetch;
  const previous = readPageCache(options.out);
  const previousByUrl = new Map((previous?.pages ?? []).map((page) => [page.url, page]));
  const urls = [...new Set(options.urls.map((url) => url.replace(/#.*$/, "")))];
  emit({ type: "scrape-start", urls: urls.length });
  const limit = pLimit(options.concurrency ?? 4);
  const hosts = new Map<string, HostGate>();
  const robots = new Map<string, Promise<RobotsRules | undefined>>();
  const pages: CachedPage[] = [];
  const failures: FailedPage[] = [];
  let notModified = 0;
  const seenDocs = new Set<string>();

  const gate = (host: string) => {
    let entry = hosts.get(host);
    if (!entry) {
      entry = new HostGate(options.perHost ?? 2, options.hostDelayMs ?? 100);
      hosts.set(host, entry);
    }
    return entry;
  };

  const request = async (url: URL, headers: Record<string, string>): Promise<Response> => {
    let current = url;
    for (let hop = 0; ; hop++) {
      if (current.protocol !== "http:" && current.protocol !== "https:") {
        throw new FetchFailure(`refused: ${current.protocol} URL`, false);
      }
      if (!options.allowPrivate) {
        try {
          await assertPublicHost(current, options.resolve);
        } catch (error) {
          throw new FetchFailure(error instanceof Error ? error.message : String(error), false);
        }
      }
      const response = await gate(current.host).run(() =>
        doFetch(current, {
          headers: { "user-agent": USER_AGENT, accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1", ...headers },
          redirect: "manual",
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        }),
      );
      if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
        discardBody(response);
        if (hop >= (options.maxRedirects ?? 5)) throw new FetchFailure("too many redirects", false);
        current = new URL(response.headers.get("location") ?? "", current);
        continue;
      }
      return response;
    }
  };

  const robotsFor = (url: URL): Promise<RobotsRules | undefined> => {
    let entry = robots.get(url.origin);
    if (!entry) {
      entry = (async () => {
        try {
          const response = await request(new URL("/robots.txt", url), {});
          if (!response.ok) {
            discardBody(response);
            return undefined;
          }
          return parseRobots(await response.text(), USER_AGENT);
        } catch {
          return undefined;
        }
      })();
      robots.set(url.origin, entry);
    }
    return entry;
  };

  const fetchOne = async (href: string): Promise<void> => {
    const url = new URL(href);
    const before = previousByUrl.get(href);
    if (options.respectRobots !== false) {
      const rules = await robotsFor(url);
      if (rules && !rules.isAllowed(url.pathname + url.search))
        throw new FetchFailure("disallowed by robots.txt", false);
    }
    const conditional: Record<string, string> = {};
    const beforeFile = before && existsSync(join(options.out, before.file));
    if (before && beforeFile && before.etag) conditional["if-none-match"] = before.etag;
    if (before && beforeFile && before.lastModified) conditional["if-modified-since"] = before.lastModified;
    const attempt = async (): Promise<void> => {
      try {
        const response = await request(url, conditional);
        if (response.status === 304 && before) {
          discardBody(response);
          notModified++;
          keep({ ...before, fetchedAt: new Date().toISOString() }, "not-modified");
          return;
        }
        if (response.status === 429 || response.status >= 500) {
          discardBody(response);
          throw new FetchFailure(`HTTP ${response.status}`, true, retryAfterMs(response.headers.get("retry-after")));
        }
        if (!response.ok) {
          discardBody(response);
          throw new FetchFailure(`HTTP ${response.status}`, false);
        }
        const contentType = response.headers.get("content-type") ?? "";
        if (contentType && !/text\/html|application\/xhtml\+xml/i.test(contentType)) {
          discardBody(response);
          throw new FetchFailure(`not HTML (${contentType.split(";")[0]})`, false);
        }
        const bytes = await readCapped(response, options.maxBytes ?? 10 * 1024 * 1024);
        const html = decode(bytes, contentType);
        if (!/<(html|body|p|div|h1|main|article)\b/i.test(html.slice(0, 100_000))) {
          throw new FetchFailure("not HTML (no markup in the body)", false);
        }
        const canonical = extractCanonical(html, url) ?? (response.url ? response.url.replace(/#.*$/, "") : undefined);
        const docId = canonical ?? href;
        const hash = sha256(html);
        const file = cacheFileFor(docId);
        const unchanged = before?.sha256 === hash && before.file === file && existsSync(join(options.out, file));
        if (!unchanged) writeCachedHtml(options.out, file, html);
        keep(
          {
            docId,
            url: href,
            ...(canonical && canonical !== href ? { canonical } : {}),
            status: response.status,
            fetchedAt: new Date().toISOString(),
            ...(response.headers.get("etag") ? { etag: response.headers.get("etag") ?? "" } : {}),
            ...(response.headers.get("last-modified")
              ? { lastModified: response.headers.get("last-modified") ?? "" }
              : {}),
            sha256: hash,
            contentType,
            file,
          },
          unchanged ? "unchanged" : before ? "changed" : "new",
        );
        return;
      } catch (error) {
        throw asFetchFailure(error);
      }
    };
    await retry(attempt, {
      policy: { ...SCRAPE_BACKOFF, retries: options.retries ?? 3, maxElapsedMs: Number.POSITIVE_INFINITY },
      // A failure is retried when it says so; the server's Retry-After is honoured up to the politeness cap.
      classify: (outcome) => {
        if (outcome.ok || !(outcome.error instanceof FetchFailure) || !outcome.error.retryable) return false;
        const asked = outcome.error.retryAfterMs;
        return {
          delayMs: asked === undefined ? undefined : Math.min(asked, SCRAPE_BACKOFF.maxDelayMs),
          reason: outcome.error.message,
        };
      },
      onRetry: (_outcome, { attempt: n, delayMs, reason }) =>
        emit({ type: "retry", url: href, attempt: n, waitMs: delayMs, reason: reason ?? "" }),
    });
  };

  const keep = (page: CachedPage, status: "new" | "changed" | "unchanged" | "not-modified") => {
    if (seenDocs.has(page.docId)) {
      emit({ type: "fetched", url: page.url, status: "failed", reason: `duplicate of ${page.docId}` });
      return;
    }
    seenDocs.add(page.docId);
    pages.push(page);
    emit({ type: "fetched", url: page.url, status });
  };

  try {
    await Promise.all(
      urls.map((href) =>
        limit(async () => {
          try {
            await fetchOne(href);
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            failures.push({ url: href, reason });
            emit({ type: "fetched", url: href, status: "failed", reason });
          }
        }),
      ),
    );
  } finally {
    await guarded?.close();
  }

  // Pages that are no longer listed leave the cache, so the index step deletes their chunks.
  const kept = new Set(pages.map((page) => page.file));
  let removed = 0;
  for (const page of previous?.pages ?? []) {
    if (!kept.has(page.file)) {
      rmSync(join(options.out, page.file), { force: true });
      removed++;
    }
  }
  const order = new Map(urls.map((url, index) => [url, index]));
  pages.sort((a, b) => (order.get(a.url) ?? 0) - (order.get(b.url) ?? 0));
  const manifest: PageCacheManifest = { version: 1, source: options.source, pages, failures };
  writePageCache(options.out, manifest);
  const summary: ScrapeSummary = {
    urls: urls.length,
    kept: pages.length,
    notModified,
    failures,
    removed,
    seconds: (performance.now() - started) / 1000,
  };
  emit({ type: "scrape-done", summary });
  return summary;
}

/** Copies a local directory of HTML files into the page cache (document id = path relative to the directory). */
export function cacheDirectory(dir: string, out: string): ScrapeSummary {
  const started = performance.now();
  const previous = readPageCache(out);
  const pages: CachedPage[] = listHtmlPages(dir).map((relative) => {
    const html = readFileSync(join(dir, relative));
    const file = cacheFileFor(relative);
    const hash = sha256(html);
    const before = previous?.pages.find((page) => page.docId === relative);
    if (before?.sha256 !== hash || !existsSync(join(out, file))) writeCachedHtml(out, file, html);
    return {
      docId: relative,
      url: relative,
      status: 200,
      fetchedAt: new Date().toISOString(),
      sha256: hash,
      contentType: "text/html",
      file,
    };
  });
  const kept = new Set(pages.map((page) => page.file));
  let removed = 0;
  for (const page of previous?.pages ?? []) {
    if (!kept.has(page.file)) {
      rmSync(join(out, page.file), { force: true });
      removed++;
    }
  }
  writePageCache(out, { version: 1, source: dir, pages, failures: [] });
  return {
    urls: pages.length,
    kept: pages.length,
    notModified: 0,
    failures: [],
    removed,
    seconds: (performance.now() - started) / 1000,
  };
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    discardBody(response);
    throw new FetchFailure(`too large (${declared} bytes > ${maxBytes})`, false);
  }
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new FetchFailure(`too large (over ${maxBytes} bytes)`, false);
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

/** Decodes with the declared charset (header, then `<meta charset>`), UTF-8 otherwise; bad bytes become U+FFFD. */
function decode(bytes: Uint8Array, contentType: string): string {
  const head = Buffer.from(bytes.subarray(0, 2048)).toString("latin1");
  const label =
    /charset=["']?([\w-]+)/i.exec(contentType)?.[1] ?? /<meta[^>]+charset=["']?([\w-]+)/i.exec(head)?.[1] ?? "utf-8";
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

/** At most `limit` concurrent requests per host, and at least `delayMs` between their starts. */
class HostGate {
  private active = 0;
  private lastStart = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly delayMs: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    const wait = this.lastStart + this.delayMs - Date.now();
    this.lastStart = Math.max(Date.now(), this.lastStart + this.delayMs);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      return await task();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}
