import { createReadStream, type Stats, statSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { extname, resolve, sep } from "node:path";
import { listHtmlPages } from "../workloads/ingest/html-pages.js";

/**
 * A static web server for a local documentation corpus, so the lab's scrape job runs its real HTTP fetch path
 * offline (on a workspace it fetches the public doc pages listed in html_links.txt instead). Besides the files it
 * serves `/html_links.txt` (every HTML page, one absolute URL a line: the lab's links-file format) and
 * `/sitemap.xml`, both generated from the directory.
 */
export interface DocsSite {
  url: string;
  port: number;
  pages: readonly string[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".css": "text/css",
  ".js": "text/javascript",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/**
 * Validators for conditional GET, so a re-run of the lab's scrape job takes the incremental path ("not modified")
 * as it does against a real doc site. Weak, from size and modification time (as static servers such as `send`
 * make them): cheap, and a changed file gets a new one.
 */
function validatorsOf(stat: Stats): { etag: string; "last-modified": string } {
  return {
    etag: `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`,
    "last-modified": stat.mtime.toUTCString(),
  };
}

/** RFC 9110 §13.2.2: If-None-Match decides when present (weak comparison); otherwise If-Modified-Since. */
function notModified(headers: IncomingHttpHeaders, validators: { etag: string }, stat: Stats): boolean {
  const ifNoneMatch = headers["if-none-match"];
  if (ifNoneMatch !== undefined) {
    const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
    return ifNoneMatch.trim() === "*" || ifNoneMatch.split(",").some((tag) => opaque(tag) === opaque(validators.etag));
  }
  const since = Date.parse(headers["if-modified-since"] ?? "");
  // HTTP dates have whole seconds; the file's time is compared at that precision.
  return Number.isFinite(since) && Math.floor(stat.mtimeMs / 1000) * 1000 <= since;
}

export async function startDocsSite(options: { root: string; port?: number; host?: string }): Promise<DocsSite> {
  const root = resolve(options.root);
  const host = options.host ?? "127.0.0.1";
  // Licence pages ship with the corpus but are not documentation to index.
  const pages = listHtmlPages(root).filter((page) => !/^LICENSE/i.test(page));
  let base = "";
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    if (path === "/html_links.txt") {
      response.writeHead(200, { "content-type": TYPES[".txt"] });
      response.end(`${pages.map((page) => `${base}/${page}`).join("\n")}\n`);
      return;
    }
    if (path === "/sitemap.xml") {
      response.writeHead(200, { "content-type": "application/xml" });
      const urls = pages.map((page) => `<url><loc>${base}/${page}</loc></url>`).join("");
      response.end(
        `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${urls}</urlset>`,
      );
      return;
    }
    const file = resolve(root, `.${path.endsWith("/") ? `${path}index.html` : path}`);
    if (file !== root && !file.startsWith(root + sep)) {
      response.writeHead(403).end();
      return;
    }
    let stat: Stats;
    try {
      stat = statSync(file);
      if (!stat.isFile()) throw new Error("not a file");
    } catch {
      response.writeHead(404, { "content-type": TYPES[".txt"] }).end("not found\n");
      return;
    }
    const validators = validatorsOf(stat);
    if (notModified(request.headers, validators, stat)) {
      response.writeHead(304, validators).end();
      return;
    }
    response.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": String(stat.size),
      ...validators,
    });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((ready, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, host, () => ready());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  base = `http://${host}:${port}`;
  return {
    url: base,
    port,
    pages,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
