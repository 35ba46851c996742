import { analyze } from "./analyze.js";

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
}

/**
 * In-memory BM25F. Built from stored chunk records at start-up (tens of thousands of chunks take well under a
 * second), so the lexical side exists wherever the chunk catalog does.
 */
export class LexicalIndex {
  private readonly ids: string[] = [];
  private readonly lengths: number[] = [];
  private readonly postings = new Map<string, { docs: number[]; tfs: number[] }>();
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
    for (const document of documents) {
      const doc = this.ids.length;
      this.ids.push(document.id);
      const tf = new Map<string, number>();
      const add = (terms: string[], weight: number) => {
        for (const term of terms) tf.set(term, (tf.get(term) ?? 0) + weight);
      };
      const body = analyze(document.body);
      add(analyze(document.title), this.titleWeight);
      add(analyze(document.headings), this.headingWeight);
      add(body, 1);
      // Length normalisation on the body only: a long title should not penalise its page.
      const length = body.length + 1;
      this.lengths.push(length);
      total += length;
      for (const [term, freq] of tf) {
        let posting = this.postings.get(term);
        if (!posting) {
          posting = { docs: [], tfs: [] };
          this.postings.set(term, posting);
        }
        posting.docs.push(doc);
        posting.tfs.push(freq);
      }
    }
    this.averageLength = this.ids.length ? total / this.ids.length : 1;
  }

  get size(): number {
    return this.ids.length;
  }

  search(query: string, limit: number): LexicalHit[] {
    const terms = [...new Set(analyze(query))];
    const n = this.ids.length;
    const scores = new Map<number, number>();
    for (const term of terms) {
      const posting = this.postings.get(term);
      if (!posting) continue;
      const df = posting.docs.length;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (let i = 0; i < df; i++) {
        const doc = posting.docs[i] ?? 0;
        const tf = posting.tfs[i] ?? 0;
        const norm = 1 - this.b + (this.b * (this.lengths[doc] ?? 1)) / this.averageLength;
        scores.set(doc, (scores.get(doc) ?? 0) + (idf * tf * (this.k1 + 1)) / (tf + this.k1 * norm));
      }
    }
    return [...scores]
      .sort((x, y) => y[1] - x[1])
      .slice(0, limit)
      .map(([doc, score]) => ({ id: this.ids[doc] ?? "", score }));
  }
}
