import { describe, expect, it } from "vitest";
import { LexicalIndex } from "../../src/workloads/rag/lexical.js";

const filler = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(" ");

describe("LexicalIndex (BM25F)", () => {
  const index = new LexicalIndex([
    { id: "in-title", title: "Sockets", headings: "", body: `networking notes ${filler(20)}` },
    { id: "in-body", title: "Networking", headings: "", body: `sockets networking notes ${filler(19)}` },
    { id: "in-heading", title: "Networking", headings: "Sockets", body: `networking notes ${filler(20)}` },
    { id: "unrelated", title: "Other", headings: "", body: filler(22) },
  ]);

  it("ranks a title match above a heading match above a body match", () => {
    expect(index.search("sockets", 10).map((hit) => hit.id)).toEqual(["in-title", "in-heading", "in-body"]);
  });

  it("gives rarer (analysed) terms more weight and unseen terms none", () => {
    expect(index.idf("socket")).toBeGreaterThan(index.idf("word0"));
    expect(index.idf("absent")).toBe(0);
  });
});
