import { lexicalTerms } from "./analyze.js";
import { topK } from "./top-k.js";

/** Documents holding a term and the term's (field-weighted) frequency in each; typed once the index is built. */
interface Posting {
  id: number;
  docs: Int32Array;
  tfs: Float64Array;
}

/** A document for the lexical index: fields are weighted (BM25F) so titles and headings count more than prose. */
export interface LexicalDocument {
  id: string;
  title: string;
  /** Headings (the context header without the title). */
  headings: string;
  body: string;
}

export interface LexicalHit {
  id: string;
  score: number;
}

export interface Bm25Options {
  k1?: number;
  b?: number;
  titleWeight?: number;
  headingWeight?: number;
  /** Keep each body's term sequence, which the proximity bonus reads. */
  positions?: boolean;
}

/**
 * Term-proximity bonus (Rasolofo & Savoy, 2003): every pair of distinct query terms that occur within `window`
 * terms of each other in a body adds 1/distance² to the pair's count; each pair then adds
 * min(idf) · (k1+1)·count / (k1+count), times `weight`. Applied to the `limit` best BM25 documents.
 */
export interface ProximityOptions {
  window: number;
  weight: number;
}

/**
 * In-memory BM25F. Built from stored chunk records at start-up (tens of thousands of chunks take well under a
 * second), so the lexical side exists wherever the chunk catalog does.
 */
export class LexicalIndex {
  private readonly ids: string[] = [];
  private readonly lengths: number[] = [];
  private readonly postings = new Map<string, Posting>();
  /** Per document, BM25's length normalisation `1 - b + b·length/average`, computed once instead of per posting. */
  private norms = new Float64Array(0);
  /** Body term ids in order, per document (with `positions`). */
  private readonly sequences: Int32Array[] = [];
  private averageLength = 0;
  private readonly k1: number;
  private readonly b: number;
  private readonly titleWeight: number;
  private readonly headingWeight: number;

  constructor(documents: Iterable<LexicalDocument>, options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? 0.75;
    this.titleWeight = options.titleWeight ?? 3;
    this.headingWeight = options.headingWeight ?? 2;
    let total = 0;
    const building = new Map<string, { id: number; docs: number[]; tfs: number[] }>();
    for (const document of documents) {
      const doc = this.ids.length;
      this.ids.push(document.id);
      const tf = new Map<string, number>();
      const add = (terms: string[], weight: number) => {
        for (const term of terms) tf.set(term, (tf.get(term) ?? 0) + weight);
      };
      const body = lexicalTerms(document.body);
      add(lexicalTerms(document.title), this.titleWeight);
      add(lexicalTerms(document.headings), this.headingWeight);
      add(body, 1);
      // Length normalisation on the body only: a long title should not penalise its page.
      const length = body.length + 1;
      this.lengths.push(length);
      total += length;
      for (const [term, freq] of tf) {
        let posting = building.get(term);
        if (!posting) {
          posting = { id: building.size, docs: [], tfs: [] };
          building.set(term, posting);
        }
        posting.docs.push(doc);
        posting.tfs.push(freq);
      }
      if (options.positions) this.sequences.push(Int32Array.from(body, (term) => building.get(term)?.id ?? -1));
    }
    this.averageLength = this.ids.length ? total / this.ids.length : 1;
    // The same expression search used to evaluate per posting, so the same doubles.
    this.norms = Float64Array.from(this.lengths, (length) => 1 - this.b + (this.b * length) / this.averageLength);
    // Typed posting lists: search walks them for every query term, and a plain array of numbers is slower to read.
    for (const [term, { id, docs, tfs }] of building) {
      this.postings.set(term, { id, docs: Int32Array.from(docs), tfs: Float64Array.from(tfs) });
    }
  }

  get size(): number {
    return this.ids.length;
  }

  /** Inverse document frequency (BM25's, always positive); 0 for a term no document holds. */
  idf(term: string): number {
    const df = this.postings.get(term)?.docs.length ?? 0;
    return df ? Math.log(1 + (this.ids.length - df + 0.5) / (df + 0.5)) : 0;
  }

  /** BM25F over the query's analysed terms (each counted once), with the proximity bonus when asked. */
  search(query: string, limit: number, proximity?: ProximityOptions): LexicalHit[] {
    const terms = [...new Set(lexicalTerms(query))];
    // A dense score array and the list of documents touched: cheaper than a Map on common terms.
    const scores = new Float64Array(this.ids.length);
    const seen = new Uint8Array(this.ids.length);
    const touched: number[] = [];
    const k1 = this.k1;
    const norms = this.norms;
    for (const term of terms) {
      const posting = this.postings.get(term);
      if (!posting) continue;
      const idf = this.idf(term);
      const { docs, tfs } = posting;
      const df = docs.length;
      for (let i = 0; i < df; i++) {
        const doc = docs[i] as number;
        const tf = tfs[i] as number;
        if (!seen[doc]) {
          seen[doc] = 1;
          touched.push(doc);
        }
        scores[doc] = (scores[doc] as number) + (idf * tf * (k1 + 1)) / (tf + k1 * (norms[doc] as number));
      }
    }
    // Scores in first-touched order, so topK's tie order is the stable sort's this replaced.
    const touchedScores = Float64Array.from(touched, (doc) => scores[doc] as number);
    let ranked = topK(touchedScores, touched.length, limit).map(({ index, score }): [number, number] => [
      touched[index] as number,
      score,
    ]);
    if (proximity && proximity.weight > 0 && this.sequences.length) {
      const query = new Map<number, number>();
      for (const term of terms) {
        const id = this.postings.get(term)?.id;
        if (id !== undefined) query.set(id, this.idf(term));
      }
      if (query.size > 1) {
        ranked = ranked
          .map(([doc, score]): [number, number] => [
            doc,
            score + proximity.weight * this.proximity(doc, query, proximity),
          ])
          .sort((x, y) => y[1] - x[1]);
      }
    }
    return ranked.map(([doc, score]) => ({ id: this.ids[doc] ?? "", score }));
  }

  private proximity(doc: number, query: ReadonlyMap<number, number>, options: ProximityOptions): number {
    const sequence = this.sequences[doc];
    if (!sequence) return 0;
    const pairs = new Map<number, number>();
    const recent: { term: number; at: number }[] = [];
    for (let at = 0; at < sequence.length; at++) {
      const term = sequence[at] ?? -1;
      if (!query.has(term)) continue;
      while (recent.length && at - (recent[0]?.at ?? 0) > options.window) recent.shift();
      for (const earlier of recent) {
        if (earlier.term === term) continue;
        const key = Math.min(term, earlier.term) * 0x4000000 + Math.max(term, earlier.term);
        const distance = at - earlier.at;
        pairs.set(key, (pairs.get(key) ?? 0) + 1 / (distance * distance));
      }
      recent.push({ term, at });
    }
    let bonus = 0;
    for (const [key, count] of pairs) {
      const a = query.get(Math.floor(key / 0x4000000)) ?? 0;
      const b = query.get(key % 0x4000000) ?? 0;
      bonus += (Math.min(a, b) * (this.k1 + 1) * count) / (this.k1 + count);
    }
    return bonus;
  }
}
