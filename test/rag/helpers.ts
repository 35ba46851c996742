import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { listHtmlPages } from "../../src/workloads/ingest/html-pages.js";
import type { PageInput } from "../../src/workloads/ingest/index-pages.js";

export const SAMPLES = join(import.meta.dirname, "..", "..", "samples", "python-docs");

/** The sample corpus as index input; `override` replaces a page's HTML (an edit) by document id. */
export function samplePages(override: Record<string, string> = {}): PageInput[] {
  return listHtmlPages(SAMPLES)
    .filter((file) => !file.startsWith("LICENSE"))
    .map((file) => {
      const html = override[file] ?? readFileSync(join(SAMPLES, file), "utf8");
      return {
        docId: file,
        url: `https://docs.example.org/${file}`,
        sha256: createHash("sha256").update(html).digest("hex"),
        read: async () => html,
      };
    });
}
