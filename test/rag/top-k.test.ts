import { expect, it } from "vitest";
import { topK } from "../../src/workloads/rag/top-k.js";

/** A small deterministic generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

it("topK equals a stable descending sort cut to k, ties included (the rankers' order before it)", () => {
  const random = lcg(20);
  let cases = 0;
  for (let trial = 0; trial < 500; trial++) {
    const count = Math.floor(random() * 300);
    // Few distinct values, so ties are common; some negatives and zeros as in dot products.
    const scores = Float64Array.from({ length: count }, () => Math.floor(random() * 12) - 3);
    const k = Math.floor(random() * 40);
    const expected = [...scores]
      .map((score, index) => ({ index, score }))
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
    expect(topK(scores, count, k)).toEqual(expected);
    cases++;
  }
  console.log(`topK: ${cases} random cases checked against sort + slice`);
});

it("topK reads only the first `count` scores", () => {
  expect(topK([1, 5, 3, 9], 3, 2)).toEqual([
    { index: 1, score: 5 },
    { index: 2, score: 3 },
  ]);
  expect(topK([1, 2], 2, 0)).toEqual([]);
});
