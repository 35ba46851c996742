import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type IndexSummary, indexPages, type PageInput } from "../../src/workloads/ingest/index-pages.js";
import { sha256 } from "../../src/workloads/ingest/page-cache.js";
import { MIN_PAGES_FOR_WORKERS } from "../../src/workloads/ingest/page-pool.js";
import { ChunkCatalog } from "../../src/workloads/rag/catalog.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import { LocalStore } from "../../src/workloads/rag/stores/local.js";

// The worker threads load dist/ (built by `npm test`); these tests check that they change nothing but speed.
const PAGES = MIN_PAGES_FOR_WORKERS + 12;

function page(i: number, edit = ""): string {
  const sections = Array.from(
    { length: 4 },
    (_, s) =>
      `<section id="s${s}"><h2>Section ${s} of page ${i}</h2><p>${`Page ${i} section ${s} explains topic_${(i * 7 + s) % 13} with care. `.repeat(20)}${edit}</p>
<div class="highlight-python3"><pre>value_${i}_${s} = compute(${s})</pre></div></section>`,
  ).join("");
  return `<html><head><title>Page ${i} — Docs</title></head><body><nav>menu</nav><div role="main"><h1>Page ${i}</h1>${sections}</div></body></html>`;
}

function inputs(edits: Record<number, string> = {}, failing = -1): PageInput[] {
  return Array.from({ length: PAGES }, (_, i) => {
    const html = page(i, edits[i]);
    return {
      docId: `p${i}.html`,
      url: `https://docs.example/p${i}.html`,
      sha256: sha256(html),
      read: async () => {
        if (i === failing) throw new Error("disk says no");
        return html;
      },
    };
  });
}

async function index(dir: string, workers: number, pages: PageInput[]): Promise<IndexSummary> {
  const catalog = ChunkCatalog.open(dir);
  return indexPages({ pages, store: new LocalStore(catalog), catalog, embedder: createHashEmbedder(), workers });
}

const comparable = (summary: IndexSummary) => ({ ...summary, seconds: 0, embedCalls: 0, workerThreads: 0, phases: {} });

describe("indexPages on worker threads", () => {
  it("writes the same catalog and the same vectors as the single-thread path, and stays idempotent", async () => {
    const threaded = mkdtempSync(join(tmpdir(), "workers-"));
    const inline = mkdtempSync(join(tmpdir(), "inline-"));
    const first = await index(threaded, 2, inputs({}, 5));
    const reference = await index(inline, 0, inputs({}, 5));
    expect(first.workerThreads).toBe(2);
    expect(reference.workerThreads).toBe(0);
    expect(comparable(first)).toEqual(comparable(reference));
    expect(first.failed).toEqual([{ docId: "p5.html", reason: "disk says no" }]);
    expect(first.indexed).toBe(PAGES - 1);
    for (const file of ["chunks.jsonl", "docs.json", "vectors.bin"]) {
      expect(readFileSync(join(threaded, file)).equals(readFileSync(join(inline, file)))).toBe(true);
    }

    const again = await index(threaded, 2, inputs());
    expect(again).toMatchObject({ unchanged: PAGES - 1, indexed: 1, embedCalls: 1, chunksDeleted: 0 });
    await index(inline, 0, inputs());

    const noop = await index(threaded, 2, inputs());
    expect(noop).toMatchObject({ unchanged: PAGES, embedCalls: 0, embeddedTexts: 0, chunksAdded: 0 });

    // Editing many pages takes the threaded path again: only the edited sections are embedded and replaced.
    const edits = Object.fromEntries(Array.from({ length: PAGES }, (_, i) => [i, " An added sentence."]));
    const edited = await index(threaded, 2, inputs(edits));
    const editedInline = await index(inline, 0, inputs(edits));
    expect(edited.workerThreads).toBe(2);
    expect(comparable(edited)).toEqual(comparable(editedInline));
    expect(edited.embeddedTexts).toBe(edited.chunksAdded);
    expect(edited.chunksDeleted).toBe(edited.chunksAdded);
    expect(edited.embeddedTexts).toBeLessThan(edited.chunksTotal + PAGES);
    for (const file of ["chunks.jsonl", "docs.json", "vectors.bin"]) {
      expect(readFileSync(join(threaded, file)).equals(readFileSync(join(inline, file)))).toBe(true);
    }
  });
});
