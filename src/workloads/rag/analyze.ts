/**
 * Text analysis shared by the lexical index and the hash embedder: NFKC, lower case, identifiers split into
 * their parts (`lru_cache` → `lru_cache lru cache`, `getLogger` → `getlogger get logger`), stop words dropped
 * and a light suffix stemmer, so "caching"/"caches"/"cached" meet "cache".
 */

import { unescapeMarkdown } from "./markdown-text.js";

const STOP_WORDS = new Set(
  (
    "a about above after again against all am an and any are as at be because been before being below between both " +
    "but by can could did do does doing down during each few for from further had has have having he her here hers " +
    "him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our " +
    "ours out over own same she should so some such than that the their theirs them then there these they this " +
    "those through to too under until up very was we were what when where which while who whom why will with would " +
    "you your yours yourself i'm im it's don't can't doesn't isn't get got want need use using used way make"
  ).split(" "),
);

// Decimal numbers and versions ("0.1", "3.11") stay whole: split, they would match every digit in the corpus.
/** What `analyze` splits a (NFKC) text into before it looks at each token on its own (the hash embedder relies on it). */
export const TOKEN = /\d+(?:\.\d+)+|[\p{L}\p{N}_]+/gu;

/** Light stemming (plural, -ing, -ed, -ly): consistent for queries and documents, not linguistically complete. */
export function stem(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  let w = word;
  if (w.endsWith("ies") && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith("sses")) w = w.slice(0, -2);
  else if (w.endsWith("es") && /(?:ch|sh|x|z)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith("s") && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith("ing") && w.length > 5) w = undouble(w.slice(0, -3));
  else if (w.endsWith("ed") && w.length > 4) w = undouble(w.slice(0, -2));
  else if (w.endsWith("ly") && w.length > 5) w = w.slice(0, -2);
  if (w.endsWith("e") && w.length > 4) w = w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  return /([^aeiouls])\1$/.test(w) ? w.slice(0, -1) : w;
}

function identifierParts(raw: string): string[] {
  const parts = raw
    .replace(/([a-z\d])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[_\s]+/)
    .filter((part) => part.length > 1);
  return parts.length > 1 ? parts : [];
}

/**
 * Index terms of a text, in order (duplicates kept: callers count them). The hash embedder's vectors are made of
 * these terms, so this function's output is frozen: improvements go into `lexicalTerms`.
 */
export function analyze(text: string): string[] {
  return terms(text, TOKEN, false);
}

// Contractions stay one token ("doesn't", "python's") so they can be dropped or reduced whole; split at the
// apostrophe they leave "doesn" and "t" behind, which match thousands of unrelated passages.
const LEXICAL_TOKEN = /\d+(?:\.\d+)+|[\p{L}\p{N}_]+(?:['\u2019]\p{L}+)*/gu;

// Negations and auxiliaries in their contracted forms, and the split forms that some texts carry (NLTK's list).
const LEXICAL_STOP_WORDS = new Set([
  ...STOP_WORDS,
  ..."aren't couldn't didn't doesn't hadn't hasn't haven't i'd i'll i've isn't let's mustn't shan't shouldn't that's there's they're wasn't we're weren't what's won't wouldn't you'd you'll you're you've".split(
    " ",
  ),
  ..."aren couldn didn doesn hadn hasn haven isn mustn shan shouldn wasn weren won wouldn ll ve".split(" "),
]);

/**
 * Terms for the lexical index and its queries: `analyze` plus contraction handling, read through Markdown
 * escapes (the extracted text escapes `_`, `*`, `[`, so `\_\_init\_\_` would otherwise be indexed as `_init`).
 */
export function lexicalTerms(text: string): string[] {
  const out: string[] = [];
  // Token by token through a cache: `terms` treats each token on its own, so a text's terms are its tokens'
  // terms in order, and a corpus repeats its tokens endlessly (building the lexical index of a 10k-chunk corpus
  // spent most of its time re-analysing the same words).
  const plain = unescapeMarkdown(text);
  // NFKC leaves ASCII as it is, and checking is much cheaper than normalising; match() (strings only) allocates
  // far less than matchAll's match objects.
  for (const token of (ASCII.test(plain) ? plain : plain.normalize("NFKC")).match(LEXICAL_TOKEN) ?? []) {
    let cached = lexicalTermsOfToken.get(token);
    if (!cached) {
      if (lexicalTermsOfToken.size >= TOKEN_CACHE_LIMIT) lexicalTermsOfToken.clear();
      cached = terms(token, LEXICAL_TOKEN, true);
      lexicalTermsOfToken.set(token, cached);
    }
    for (const term of cached) out.push(term);
  }
  return out;
}

const TOKEN_CACHE_LIMIT = 100_000;
const ASCII = /^\p{ASCII}*$/u;
const lexicalTermsOfToken = new Map<string, string[]>();

function terms(text: string, token: RegExp, lexical: boolean): string[] {
  const terms: string[] = [];
  const stops = lexical ? LEXICAL_STOP_WORDS : STOP_WORDS;
  for (const match of text.normalize("NFKC").matchAll(token)) {
    let raw = match[0];
    let lower = raw.toLowerCase();
    if (lower.length > 40) continue;
    if (lexical) {
      lower = lower.replace("\u2019", "'");
      const apostrophe = lower.indexOf("'");
      if (apostrophe >= 0) {
        if (stops.has(lower)) continue;
        // "python's" → "python"; "o'clock"-style words keep their first part, a rare loss.
        lower = lower.slice(0, apostrophe);
        raw = raw.slice(0, apostrophe);
      }
    }
    if (!stops.has(lower)) terms.push(stem(lower));
    for (const part of identifierParts(raw)) {
      const p = part.toLowerCase();
      if (!stops.has(p) && p !== lower) terms.push(stem(p));
    }
  }
  return terms;
}
