import { describe, expect, it } from "vitest";
import type { ChunkRecord } from "../../src/workloads/rag/chunk-record.js";
import type { Embedder } from "../../src/workloads/rag/embedders/embedder.js";
import { type HybridOptions, HybridRetriever } from "../../src/workloads/rag/hybrid.js";
import { LexicalIndex } from "../../src/workloads/rag/lexical.js";
import type { DenseHit, VectorStore } from "../../src/workloads/rag/stores/store.js";

const filler = (from: number, n: number) => Array.from({ length: n }, (_, i) => `w${from + i}`).join(" ");

function record(docId: string, index: number, text: string): ChunkRecord {
  const title = docId.replace(".html", "");
  return { id: `${docId}#${index}`, docId, url: docId, title, section: `${title} \u203a part ${index}`, text, index };
}

/** A dense side with a fixed answer, so the fusion can be checked against known ranks. */
function fixedDense(hits: DenseHit[]): { store: VectorStore; embedder: Embedder } {
  const unused = async () => {
    throw new Error("not used by retrieval");
  };
  return {
    embedder: {
      id: "fixed",
      dim: 1,
      maxTokens: 1,
      embedDocuments: async (texts) => texts.map(() => new Float32Array(1)),
      embedQuery: async () => new Float32Array(1),
    },
    store: {
      kind: "local",
      location: "memory",
      readMeta: async () => undefined,
      prepare: unused,
      upsert: unused,
      deleteByIds: unused,
      listDocChunks: unused,
      count: async () => hits.length,
      flush: async () => undefined,
      query: async (_vector, k) => hits.slice(0, k),
    },
  };
}

function retriever(records: ChunkRecord[], options: HybridOptions, dense?: DenseHit[]): HybridRetriever {
  const side = dense ? fixedDense(dense) : undefined;
  return new HybridRetriever(new Map(records.map((r) => [r.id, r])), side?.store, side?.embedder, "local", options);
}

describe("proximity bonus", () => {
  const documents = [
    { id: "apart", title: "", headings: "", body: `memory ${filler(0, 12)} leak ${filler(20, 4)}` },
    { id: "adjacent", title: "", headings: "", body: `${filler(0, 8)} memory leak ${filler(20, 8)}` },
    { id: "other", title: "", headings: "", body: filler(0, 18) },
  ];

  it("ranks query terms that sit together above the same terms far apart", () => {
    const plain = new LexicalIndex(documents).search("memory leak", 10);
    expect(plain[0]?.score).toBeCloseTo(plain[1]?.score ?? 0, 10);
    const index = new LexicalIndex(documents, { positions: true });
    const hits = index.search("memory leak", 10, { window: 5, weight: 1 });
    expect(hits.map((hit) => hit.id)).toEqual(["adjacent", "apart"]);
    expect(hits[0]?.score).toBeGreaterThan(plain[0]?.score ?? 0);
    // "apart" is 13 terms apart: outside the window, so no bonus.
    expect(hits[1]?.score).toBeCloseTo(plain[1]?.score ?? 0, 10);
  });

  it("gives a one-term query no bonus", () => {
    const index = new LexicalIndex(documents, { positions: true });
    const single = index.search("memory", 10, { window: 5, weight: 1 });
    const plain = new LexicalIndex(documents).search("memory", 10);
    expect(single.map((hit) => hit.score)).toEqual(plain.map((hit) => hit.score));
  });
});

describe("page aggregation", () => {
  // one.html has the single best passage; two.html has two slightly weaker ones.
  const records = [
    record("one.html", 0, `socket timeout socket timeout ${filler(0, 20)}`),
    record("one.html", 1, filler(100, 24)),
    record("two.html", 0, `socket timeout ${filler(200, 22)}`),
    record("two.html", 1, `socket timeout ${filler(300, 22)}`),
  ];
  const rank = async (aggregate: HybridOptions["aggregate"]) =>
    (
      await retriever(records, {
        mode: "bm25",
        weights: { page: 0 },
        proximity: { window: 0, weight: 0 },
        aggregate,
      }).rankPages("socket timeout")
    ).map((page) => page.docId);

  it("ranks by the best passage alone when decay is 0", async () => {
    expect(await rank({ depth: 3, decay: 0 })).toEqual(["one.html", "two.html"]);
  });

  it("lets a page that answers in several passages overtake one lucky passage", async () => {
    expect(await rank({ depth: 2, decay: 0.9 })).toEqual(["two.html", "one.html"]);
  });
});

describe("reciprocal-rank fusion", () => {
  const records = [
    record("lexical.html", 0, `thread lock ${filler(0, 20)}`),
    record("both.html", 0, `thread ${filler(100, 21)}`),
    record("dense.html", 0, filler(200, 22)),
  ];
  const dense = [
    { id: "both.html#0", score: 0.9 },
    { id: "dense.html#0", score: 0.8 },
  ];
  const order = async (options: HybridOptions) =>
    (
      await retriever(records, { ...options, weights: { page: 0, ...options.weights } }, dense).rankPages("thread lock")
    ).map((page) => page.docId);

  it("follows the lexical list when the dense side weighs nothing", async () => {
    expect((await order({ weights: { dense: 0 } }))[0]).toBe("lexical.html");
  });

  it("puts a page ranked well by both lists above a page first in only one", async () => {
    expect(await order({ weights: { dense: 1 } })).toEqual(["both.html", "lexical.html", "dense.html"]);
  });

  it("drops dense-only passages below the relevance floor", async () => {
    const pages = await order({ weights: { dense: 1 }, minDenseScore: 0.85 });
    expect(pages).not.toContain("dense.html");
    expect(await retriever(records, { minDenseScore: 0.95 }, dense).retrieve("zebra")).toEqual([]);
  });
});

describe("section index pages", () => {
  // index.html lists every topic as links and matches the question twice; guide.html explains it once.
  const hub = record(
    "index.html",
    0,
    "[socket timeout](a.html) [socket options](b.html) [timeout errors](c.html) [select](d.html) [ssl](e.html)",
  );
  const content = record("guide.html", 0, `A socket timeout is set with settimeout ${filler(0, 12)}`);
  const other = record("other.html", 0, filler(100, 20));

  it("never offers a passage that is mostly links (a table of contents) as a source", async () => {
    const ranked = await retriever([hub, content, other], { mode: "bm25" }).rankPages("socket timeout");
    expect(ranked.map((page) => page.docId)).toEqual(["guide.html"]);
  });

  it("keeps the lexical order when the demotion is off", async () => {
    const off = { mode: "bm25" as const, hubPages: { linkShare: 1, factor: 1 } };
    const ranked = await retriever([hub, content, other], off).rankPages("socket timeout");
    expect(ranked.map((page) => page.docId)).toEqual(["index.html", "guide.html"]);
  });
});
