import { describe, expect, it } from "vitest";
import { analyze, lexicalTerms, stem } from "../../src/workloads/rag/analyze.js";

describe("stem", () => {
  it("brings inflections of one word together", () => {
    expect(new Set(["caching", "caches", "cached", "cache"].map(stem)).size).toBe(1);
    expect(stem("classes")).toBe(stem("class"));
    expect(stem("libraries")).toBe(stem("library"));
    expect(stem("running")).toBe(stem("run"));
  });

  it("leaves short words and version numbers alone", () => {
    expect(stem("is")).toBe("is");
    expect(stem("py3s")).toBe("py3s");
  });
});

describe("lexicalTerms", () => {
  it("reads through Markdown escapes", () => {
    expect(lexicalTerms("pg\\_dump and \\_\\_init\\_\\_ \\[docs\\]")).toEqual(
      lexicalTerms("pg_dump and __init__ [docs]"),
    );
    expect(lexicalTerms("pg\\_dump")).toContain("dump");
  });

  it("keeps a compound identifier whole and adds its parts", () => {
    const terms = lexicalTerms("lru_cache getLogger HTTPServer");
    expect(terms).toEqual(expect.arrayContaining(["lru_cach", "lru", "cach", "getlogger", "logger", "httpserver"]));
    expect(terms).toContain(stem("server"));
  });

  it("drops contracted negations whole and reduces possessives to their word", () => {
    expect(lexicalTerms("it doesn't work, I'm sure we can't")).toEqual([stem("work"), "sure"]);
    expect(lexicalTerms("Python's tuples")).toEqual(["python", stem("tuples")]);
    expect(lexicalTerms("don\u2019t")).toEqual([]);
  });

  it("keeps versions and decimals whole and drops question words", () => {
    expect(lexicalTerms("Why does 0.1 differ on 3.11?")).toEqual(["0.1", stem("differ"), "3.11"]);
  });

  it("leaves analyze (the hash embedder's input) as it was", () => {
    expect(analyze("doesn't")).toEqual(["doesn", "t"]);
  });
});
