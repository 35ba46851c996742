/**
 * The `k` best of `count` scored items, best first, without sorting them all: retrieval scores thousands of
 * documents per query and keeps a hundred. Ties keep the lower index first, so the result is exactly what a
 * stable descending sort followed by `slice(0, k)` gives (the order the rankers had before, which the eval pins).
 */
export function topK(scores: ArrayLike<number>, count: number, k: number): { index: number; score: number }[] {
  const best: { index: number; score: number }[] = [];
  if (k <= 0) return best;
  // A sorted list of at most k: an item that cannot enter is rejected with one comparison, which is almost every
  // item once the list is full, so this is O(count + k·entries) instead of O(count·log count).
  let floor = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < count; index++) {
    const score = scores[index] as number;
    if (best.length >= k && score <= floor) continue;
    let at = best.length;
    while (at > 0 && (best[at - 1] as { score: number }).score < score) at--;
    best.splice(at, 0, { index, score });
    if (best.length > k) best.pop();
    if (best.length >= k) floor = (best[best.length - 1] as { score: number }).score;
  }
  return best;
}
