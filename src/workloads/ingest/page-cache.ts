import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomicSync } from "../../shared/atomic-write.js";
import { UserError } from "../../shared/errors.js";
import { shapeOf } from "../../shared/json-shape.js";
import type { PageInput } from "./page-task.js";

/** What the scrape step records for each page it kept (the index step's input). */
export interface CachedPage {
  /** Canonical URL without fragment (or, for --dir, the path relative to the directory). */
  docId: string;
  /** The URL that was requested. */
  url: string;
  /** The URL after redirects / `<link rel=canonical>`, when it differs. */
  canonical?: string;
  status: number;
  fetchedAt: string;
  etag?: string;
  lastModified?: string;
  sha256: string;
  contentType: string;
  /** Path of the HTML file, relative to the cache directory. */
  file: string;
}

export interface FailedPage {
  url: string;
  reason: string;
}

export interface PageCacheManifest {
  version: 1;
  source: string;
  pages: CachedPage[];
  failures: FailedPage[];
}

const MANIFEST = "pages.json";

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function cacheFileFor(docId: string): string {
  return `html/${sha256(docId).slice(0, 24)}.html`;
}

export function readPageCache(dir: string): PageCacheManifest | undefined {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) return undefined;
  const value: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (isManifestShape(value)) {
    // A page or failure entry that is not one is dropped: the next scrape fetches that page again.
    const pages = value.pages.filter(isCachedPage);
    const failures = (value.failures ?? []).filter(isFailure);
    return { version: 1, source: value.source ?? "", pages, failures };
  }
  throw new UserError(`${file} is not a page cache manifest`, { location: `${file}:1:1` });
}

export function writePageCache(dir: string, manifest: PageCacheManifest): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomicSync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
}

export function writeCachedHtml(dir: string, file: string, html: Uint8Array | string): void {
  mkdirSync(join(dir, "html"), { recursive: true });
  writeFileAtomicSync(join(dir, file), html);
}

/** The page cache as index input; HTML is read only for pages whose hash changed. */
export function pageCacheInputs(dir: string): PageInput[] {
  const manifest = readPageCache(dir);
  if (!manifest) {
    throw new UserError(`no page cache in ${dir} (missing ${MANIFEST})`, {
      notes: ["fill it first: cml-lab ingest scrape --links <file-or-URL> --out <dir>"],
    });
  }
  return manifest.pages.map((page) => ({
    docId: page.docId,
    url: page.canonical ?? page.url,
    sha256: page.sha256,
    read: () => readFile(join(dir, page.file), "utf8"),
  }));
}

const isCachedPage = shapeOf<CachedPage>({
  type: "object",
  properties: {
    docId: { type: "string" },
    url: { type: "string" },
    sha256: { type: "string" },
    file: { type: "string" },
  },
  required: ["docId", "url", "sha256", "file"],
});

const isFailure = shapeOf<FailedPage>({
  type: "object",
  properties: { url: { type: "string" }, reason: { type: "string" } },
  required: ["url", "reason"],
});

const isManifestShape = shapeOf<{ pages: unknown[]; failures?: unknown[]; source?: string }>({
  type: "object",
  properties: { pages: { type: "array" }, failures: { type: "array" }, source: { type: "string" } },
  required: ["pages"],
});
