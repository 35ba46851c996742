import { analyze, TOKEN } from "../analyze.js";
import { type Embedder, l2normalize } from "./embedder.js";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WORD = fnv1aFrom(FNV_OFFSET, "w:");
const BIGRAM = fnv1aFrom(FNV_OFFSET, "b:");
const TRIGRAM = fnv1aFrom(FNV_OFFSET, "c:");
const CARET = 0x5e;
const DOLLAR = 0x24;
const SPACE = 0x20;

/**
 * Deterministic feature hashing (the "hashing trick") of analysed words, word bigrams and character trigrams of
 * each word, with sublinear term frequency, L2-normalised. No model and no download: the offline default and
 * what tests use. It is a lexical-semantic proxy, not a language model: character n-grams let "cache" meet
 * "caching" and bigrams reward phrase matches.
 *
 * The features are the FNV-1a hashes of the strings `w:<term>`, `b:<previous> <term>` and `c:<trigram of ^term$>`;
 * FNV-1a is sequential, so each hash continues from the hashed prefix instead of building the string (the
 * vectors are bit-identical to hashing the strings, which test/ingest/hash-golden.test.ts pins).
 */
export function createHashEmbedder(options: { dim?: number } = {}): Embedder {
  const dim = options.dim ?? 512;
  // Reused across calls: sums in a dense array (same additions in the same order as a Map, so the same doubles).
  const sums = new Float64Array(dim);
  const touched = new Uint8Array(dim);
  const slots: number[] = [];
  const add = (h: number, weight: number) => {
    const slot = h % dim;
    if (touched[slot] === 0) {
      touched[slot] = 1;
      slots.push(slot);
    }
    // The sign bit decorrelates colliding features (Weinberger et al., 2009).
    sums[slot] = (sums[slot] ?? 0) + ((h & 0x80000000) === 0 ? weight : -weight);
  };
  const embed = (text: string): Float32Array => {
    const terms = analyzeCached(text);
    let previous = 0;
    for (let i = 0; i < terms.length; i++) {
      const term = terms[i] ?? "";
      add(fnv1aFrom(WORD, term) >>> 0, 1);
      if (i > 0) add(fnv1aFrom(previous, term) >>> 0, 0.5);
      // State after `b:<term> `, the prefix of the next bigram.
      previous = Math.imul(fnv1aFrom(BIGRAM, term) ^ SPACE, FNV_PRIME);
      // Trigrams of `^term$`: code units at positions -1 (^), 0..n-1 and n ($).
      const n = term.length;
      for (let j = -1; j + 2 <= n; j++) {
        let h = TRIGRAM;
        for (let k = j; k < j + 3; k++) {
          const code = k < 0 ? CARET : k >= n ? DOLLAR : term.charCodeAt(k);
          h = Math.imul(h ^ code, FNV_PRIME);
        }
        add(h >>> 0, 0.25);
      }
    }
    const vector = new Float32Array(dim);
    for (const slot of slots) {
      const value = sums[slot] ?? 0;
      vector[slot] = Math.sign(value) * Math.log1p(Math.abs(value));
      sums[slot] = 0;
      touched[slot] = 0;
    }
    slots.length = 0;
    return l2normalize(vector);
  };
  const embedder: Embedder = {
    id: `hash-v1-${dim}`,
    dim,
    maxTokens: Number.POSITIVE_INFINITY,
    embedDocuments: async (texts) => texts.map(embed),
    embedQuery: async (text) => embed(text),
  };
  HASH_EMBEDDERS.set(embedder, { dim });
  return embedder;
}

const HASH_EMBEDDERS = new WeakMap<Embedder, { dim: number }>();

/**
 * The options of an embedder made by createHashEmbedder (undefined for any other, including wrappers): the indexer
 * builds the same embedder inside its worker threads, since it is pure computation.
 */
export function hashEmbedderOptions(embedder: Embedder): { dim: number } | undefined {
  return HASH_EMBEDDERS.get(embedder);
}

const ASCII = /^\p{ASCII}*$/u;
const TERMS_CACHE_LIMIT = 100_000;
const termsOfToken = new Map<string, string[]>();

/**
 * analyze(text), token by token through a cache: analyze treats each token on its own (lower case, stop words,
 * identifier parts, stemming), so the terms of a text are the concatenated terms of its tokens, and a corpus
 * repeats its tokens endlessly. test/ingest/hash-golden.test.ts checks the equality on real text.
 */
export function analyzeCached(text: string): string[] {
  const terms: string[] = [];
  // NFKC leaves ASCII as it is; most chunk text is ASCII and the check is much cheaper than normalising.
  const normalized = ASCII.test(text) ? text : text.normalize("NFKC");
  for (const match of normalized.matchAll(TOKEN)) {
    const token = match[0];
    let cached = termsOfToken.get(token);
    if (!cached) {
      if (termsOfToken.size >= TERMS_CACHE_LIMIT) termsOfToken.clear();
      cached = analyze(token);
      termsOfToken.set(token, cached);
    }
    for (const term of cached) terms.push(term);
  }
  return terms;
}

/** FNV-1a continued from `state` over the UTF-16 code units of `text` (not yet made unsigned). */
function fnv1aFrom(state: number, text: string): number {
  let hash = state;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  return hash;
}
