import { describe, expect, it } from "vitest";
import { progressRenderer, renderIndexSummary } from "../../src/cli/commands/ingest-progress.js";
import type { CliIo } from "../../src/shared/io.js";
import type { IndexSummary } from "../../src/workloads/ingest/index-pages.js";

function capture(now: () => number) {
  const out: string[] = [];
  const io: CliIo = { stdout: (t) => void out.push(t), stderr: () => {}, isTTY: false, env: {}, cwd: "." };
  return { render: progressRenderer(io, { intervalMs: 0, now }), text: () => out.join("") };
}

describe("the ingest progress line's rate", () => {
  it("shows no rate when every page was unchanged or not modified, however fast that went", () => {
    let t = 0;
    const { render, text } = capture(() => t);
    render({ type: "scrape-start", urls: 3 });
    for (const url of ["a", "b", "c"]) {
      t += 0.05;
      render({ type: "fetched", url, status: "not-modified" });
    }
    render({ type: "index-start", pages: 3, store: "local" });
    for (const docId of ["a", "b", "c"]) {
      t += 0.05;
      render({ type: "page", docId, status: "unchanged", chunks: 4, added: 0, deleted: 0 });
    }
    expect(text()).toContain("scrape: 3/3 pages, 0 chunks\n");
    expect(text()).toContain("index: 3/3 pages, 12 chunks\n");
    expect(text()).not.toMatch(/pages\/s|ETA/);
  });

  it("rates only the pages that were worked on, once a second has passed", () => {
    let t = 0;
    const { render, text } = capture(() => t);
    render({ type: "index-start", pages: 4, store: "local" });
    render({ type: "page", docId: "a", status: "unchanged", chunks: 1, added: 0, deleted: 0 });
    t = 500;
    render({ type: "page", docId: "b", status: "indexed", chunks: 2, added: 2, deleted: 0 });
    t = 2_000;
    render({ type: "page", docId: "c", status: "indexed", chunks: 2, added: 2, deleted: 0 });
    const lines = text().trim().split("\n");
    expect(lines[1]).toBe("index: 2/4 pages, 3 chunks");
    // 2 indexed pages in 2 s; the unchanged one is not part of the rate.
    expect(lines[2]).toBe("index: 3/4 pages, 5 chunks, 1.0 pages/s, ETA 1s");
  });

  it("the summary's rate counts indexed pages and is left out when none were", () => {
    const summary: IndexSummary = {
      pages: 27,
      indexed: 0,
      unchanged: 27,
      empty: [],
      failed: [],
      removedPages: 0,
      chunksAdded: 0,
      chunksDeleted: 0,
      chunksTotal: 586,
      embeddedTexts: 0,
      embedCalls: 0,
      workerThreads: 0,
      phases: { extract: 0, chunk: 0, embed: 0, store: 0 },
      seconds: 0.002,
    };
    expect(renderIndexSummary(summary)[0]).toMatch(/0 calls; 0\.0s$/);
    expect(renderIndexSummary({ ...summary, indexed: 20, unchanged: 7, seconds: 4 })[0]).toMatch(
      /4\.0s \(5 pages\/s\)$/,
    );
  });
});
