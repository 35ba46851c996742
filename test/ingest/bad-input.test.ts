import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { indexPages, type PageInput } from "../../src/workloads/ingest/index-pages.js";
import { sha256 } from "../../src/workloads/ingest/page-cache.js";
import { ChunkCatalog } from "../../src/workloads/rag/catalog.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import { LocalStore } from "../../src/workloads/rag/stores/local.js";

const input = (docId: string, html: string): PageInput => ({
  docId,
  url: `https://x.example/${docId}`,
  sha256: sha256(html),
  read: async () => html,
});

describe("indexPages on bad input", () => {
  it("never crashes: empty, binary, malformed, huge, duplicate and mis-encoded pages are indexed or reported", async () => {
    const huge = `<html><body><main><h1>Huge</h1>${Array.from({ length: 15_000 }, (_, i) => `<p>Paragraph ${i} of a very long page.</p>`).join("")}</main></body></html>`;
    const pages = [
      input("empty.html", ""),
      input("binary.html", "\u0000\u0001\u0002\u00ff\ufffd%PDF-1.7 \u0000\u0000"),
      input(
        "malformed.html",
        "<html><body><main><h1>Broken</h1><p>unclosed <b>bold <table><tr><td>cell <div></span></main>",
      ),
      input("huge.html", huge),
      input("latin1.html", Buffer.from("<p>Caf\u00e9 cr\u00e8me</p>", "latin1").toString("utf8")),
      input("dup.html", "<main><h1>First</h1><p>The first copy wins.</p></main>"),
      input("dup.html", "<main><h1>Second</h1><p>The duplicate is ignored.</p></main>"),
    ];
    const catalog = ChunkCatalog.open(mkdtempSync(join(tmpdir(), "bad-input-")));
    const summary = await indexPages({
      pages,
      store: new LocalStore(catalog),
      catalog,
      embedder: createHashEmbedder(),
    });
    expect(summary.pages).toBe(6);
    expect(summary.failed).toEqual([]);
    expect(summary.empty).toContain("empty.html");
    expect(summary.indexed + summary.empty.length).toBe(6);
    const chunks = [...catalog.chunks().values()];
    expect(chunks.filter((chunk) => chunk.docId === "huge.html").length).toBeGreaterThan(100);
    expect(chunks.some((chunk) => chunk.docId === "malformed.html" && chunk.text.includes("unclosed"))).toBe(true);
    expect(chunks.some((chunk) => chunk.text.includes("duplicate is ignored"))).toBe(false);
    expect(chunks.some((chunk) => chunk.docId === "latin1.html" && chunk.text.includes("\ufffd"))).toBe(true);
  });
});
