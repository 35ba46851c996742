import { analyze } from "../analyze.js";
import { type Embedder, l2normalize } from "./embedder.js";

/**
 * Deterministic feature hashing (the "hashing trick") of analysed words, word bigrams and character trigrams of
 * each word, with sublinear term frequency, L2-normalised. No model and no download: the offline default and
 * what tests use. It is a lexical-semantic proxy, not a language model: character n-grams let "cache" meet
 * "caching" and bigrams reward phrase matches.
 */
export function createHashEmbedder(options: { dim?: number } = {}): Embedder {
  const dim = options.dim ?? 512;
  const embed = (text: string): Float32Array => {
    const counts = new Map<number, number>();
    const add = (feature: string, weight: number) => {
      const h = fnv1a(feature);
      const slot = h % dim;
      // The sign bit decorrelates colliding features (Weinberger et al., 2009).
      const signed = (h & 0x80000000) === 0 ? weight : -weight;
      counts.set(slot, (counts.get(slot) ?? 0) + signed);
    };
    const terms = analyze(text);
    for (let i = 0; i < terms.length; i++) {
      const term = terms[i] ?? "";
      add(`w:${term}`, 1);
      if (i > 0) add(`b:${terms[i - 1]} ${term}`, 0.5);
      const padded = `^${term}$`;
      for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, 0.25);
    }
    const vector = new Float32Array(dim);
    for (const [slot, value] of counts) vector[slot] = Math.sign(value) * Math.log1p(Math.abs(value));
    return l2normalize(vector);
  };
  return {
    id: `hash-v1-${dim}`,
    dim,
    maxTokens: Number.POSITIVE_INFINITY,
    embedDocuments: async (texts) => texts.map(embed),
    embedQuery: async (text) => embed(text),
  };
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
