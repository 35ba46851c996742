import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPageCache } from "../../src/workloads/ingest/page-cache.js";
import { type ScrapeEvent, scrapePages } from "../../src/workloads/ingest/scrape.js";
import { isPrivateAddress } from "../../src/workloads/ingest/ssrf.js";

const page = (title: string) =>
  `<html><head><title>${title}</title></head><body><main><h1>${title}</h1><p>${"Text about ".repeat(30)}${title}.</p></main></body></html>`;

// A small doc site with the failure modes a real one has: a flaky page, a rate limit, a PDF, a 404,
// a page robots.txt forbids, a redirect and a page served with ETag for conditional GETs.
describe("scrapePages", () => {
  let server: Server;
  let base = "";
  const hits = new Map<string, number>();
  const conditional: string[] = [];
  let flakyFailures = 0;
  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response) => {
      const path = request.url ?? "/";
      hits.set(path, (hits.get(path) ?? 0) + 1);
      if (path === "/robots.txt") return void response.end("User-agent: *\nDisallow: /private/\n");
      if (path === "/flaky.html" && flakyFailures < 2) {
        flakyFailures++;
        return void response.writeHead(503, { "retry-after": "0" }).end("busy");
      }
      if (path === "/limited.html" && (hits.get(path) ?? 0) === 1) {
        return void response.writeHead(429, { "retry-after": "1" }).end();
      }
      if (path === "/doc.pdf") return void response.writeHead(200, { "content-type": "application/pdf" }).end("%PDF");
      if (path === "/moved.html") return void response.writeHead(301, { location: "/target.html" }).end();
      if (path === "/etag.html") {
        if (request.headers["if-none-match"] === '"v1"') {
          conditional.push(path);
          return void response.writeHead(304).end();
        }
        return void response.writeHead(200, { "content-type": "text/html", etag: '"v1"' }).end(page("Etag"));
      }
      if (path === "/latin1.html") {
        response.writeHead(200, { "content-type": "text/html; charset=iso-8859-1" });
        return void response.end(Buffer.from(page("Caf\u00e9"), "latin1"));
      }
      if (["/a.html", "/flaky.html", "/limited.html", "/target.html", "/private/x.html"].includes(path)) {
        return void response.writeHead(200, { "content-type": "text/html" }).end(page(path));
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it("retries, honours Retry-After, follows redirects, skips and reports what it cannot keep", async () => {
    const out = mkdtempSync(join(tmpdir(), "scrape-"));
    const urls = ["a", "a", "flaky", "limited", "moved", "etag", "latin1", "missing", "private/x"].map(
      (name) => `${base}/${name}.html`,
    );
    const events: ScrapeEvent[] = [];
    const started = Date.now();
    const summary = await scrapePages({
      urls: [...urls, `${base}/doc.pdf`],
      out,
      source: "test",
      allowPrivate: true,
      onEvent: (event) => events.push(event),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // the 429 asked for one second
    expect(
      Object.fromEntries(summary.failures.map((failure) => [failure.url.slice(base.length), failure.reason])),
    ).toEqual({
      "/missing.html": "HTTP 404",
      "/private/x.html": "disallowed by robots.txt",
      "/doc.pdf": "not HTML (application/pdf)",
    });
    expect(events.filter((event) => event.type === "retry").length).toBe(3);
    const cache = readPageCache(out);
    expect(cache?.pages.map((p) => p.url.slice(base.length)).sort()).toEqual(
      ["/a.html", "/etag.html", "/flaky.html", "/latin1.html", "/limited.html", "/moved.html"].sort(),
    );
    const latin = cache?.pages.find((p) => p.url.endsWith("latin1.html"));
    expect(readFileSync(join(out, latin?.file ?? ""), "utf8")).toContain("Caf\u00e9");

    // Second run: the ETag page is revalidated (304) and kept; a dropped URL leaves the cache.
    const again = await scrapePages({
      urls: urls.filter((u) => !u.endsWith("/a.html")),
      out,
      source: "test",
      allowPrivate: true,
    });
    expect(conditional).toEqual(["/etag.html"]);
    expect(again.notModified).toBe(1);
    expect(again.removed).toBe(1);
    expect(readPageCache(out)?.pages.some((p) => p.url.endsWith("/a.html"))).toBe(false);
  });

  it("refuses loopback and private targets unless allowed", async () => {
    const out = mkdtempSync(join(tmpdir(), "scrape-"));
    const summary = await scrapePages({ urls: [`${base}/a.html`], out, source: "test" });
    expect(summary.failures[0]?.reason).toMatch(/private address 127\.0\.0\.1.*--allow-private/);
    for (const address of ["10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1"]) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    expect(isPrivateAddress("151.101.1.69")).toBe(false);
  });
});
