import { lexicalTerms } from "./analyze.js";
import type { ChunkRecord } from "./chunk-record.js";
import type { Embedder } from "./embedders/embedder.js";
import {
  type Bm25Options,
  type LexicalDocument,
  type LexicalHit,
  LexicalIndex,
  type ProximityOptions,
} from "./lexical.js";
import { MARKDOWN_LINK } from "./markdown-text.js";
import { withoutCode } from "./sentences.js";
import type { VectorStore } from "./stores/store.js";
import type { RetrievedSource, RetrieveOptions, Retriever, StoreKind } from "./types.js";

export type RetrievalMode = "hybrid" | "bm25" | "dense";

export interface HybridOptions {
  mode?: RetrievalMode;
  /** Candidates taken from each ranked list before fusion. */
  candidates?: number;
  /** Reciprocal-rank-fusion constant (Cormack et al., 2009). */
  rrfK?: number;
  /** At most this many passages from one page. */
  perPage?: number;
  /**
   * Relevance floor: a passage found only by the dense side needs at least this cosine similarity; when no
   * passage matches a query term and none clears the floor, the answer is "not in the documents" (no sources).
   */
  minDenseScore?: number;
  /**
   * Relevance floor of the lexical side: when no dense passage clears `minDenseScore`, the question is in the
   * documents only if one of the best lexical passages holds, in its words (title, headings, text outside code),
   * at least this share of the question's terms, each weighted by its idf (a term no passage holds weighs most).
   * Off-topic questions otherwise match on one common word ("tell me a joke": `tell`) or on a name in a code
   * example ("what's the weather?": `class Weather`), and their answer lists unrelated sources.
   */
  minCoverage?: number;
  /** Weight of each ranked list in the page-level fusion. */
  weights?: { lexical?: number; dense?: number; page?: number };
  /** BM25F parameters of the passage index. */
  bm25?: Bm25Options;
  /** BM25F parameters of the whole-page index (same field weights as the passages by default). */
  pageBm25?: Bm25Options;
  /**
   * Page-level aggregation of passage BM25 scores: a page scores its best passage plus `decay`^i times its
   * (i+1)-th best, over its `depth` best passages, so a page that answers in several places outranks one lucky
   * passage. decay 0 is max-passage.
   */
  aggregate?: { depth?: number; decay?: number };
  /** Term-proximity bonus on passages (see ProximityOptions); weight 0 turns it off. */
  proximity?: ProximityOptions;
  /**
   * Section index pages (a table of contents: more than `linkShare` of the page's text is link text) have their
   * page score multiplied by `factor`: they name every topic below them and answer none, so as a source they
   * only send the reader one click further.
   */
  hubPages?: { linkShare: number; factor: number };
}

export interface RankedPage {
  docId: string;
  score: number;
  /** Best passages first. */
  chunks: { record: ChunkRecord; score: number }[];
}

const SEPARATOR = " \u203a ";
/** Lexical passages the coverage floor looks at: the best few decide whether the question is in the documents. */
const COVERAGE_CANDIDATES = 20;

function headingsOf(record: ChunkRecord): string {
  const parts = record.section.split(SEPARATOR);
  return (parts[0] === record.title ? parts.slice(1) : parts).join(" ");
}

/** Characters of a Markdown passage as read (link targets left out) and how many of them are link text. */
function linkShare(markdown: string): [text: number, links: number] {
  let links = 0;
  let targets = 0;
  for (const match of markdown.matchAll(MARKDOWN_LINK)) {
    links += match[1]?.length ?? 0;
    targets += match[0].length - (match[1]?.length ?? 0) - 2;
  }
  return [markdown.length - targets, links];
}

/**
 * BM25F over passages (title and headings boosted) + BM25 over whole pages + dense kNN from the store, fused
 * with reciprocal-rank fusion at the page level: a page ranks by how well its best passage ranks in each list
 * and by how well the page as a whole matches, then shows its best passages (at most `perPage`).
 */
export class HybridRetriever implements Retriever {
  private readonly chunkIndex: LexicalIndex;
  private readonly pageIndex: LexicalIndex;
  private readonly options: Required<HybridOptions>;
  /** Pages that are mostly links (see HybridOptions.hubPages). */
  private readonly hubs = new Set<string>();
  /**
   * Passages that are mostly links: a table of contents, also on a page that has prose (the tutorial's index).
   * They name the topics they link to and say nothing about them, so they are never sources (as sources they
   * took two of five places and showed raw link syntax).
   */
  private readonly linkLists = new Set<string>();

  constructor(
    private readonly records: ReadonlyMap<string, ChunkRecord>,
    private readonly store: VectorStore | undefined,
    private readonly embedder: Embedder | undefined,
    private readonly storeKind: StoreKind,
    options: HybridOptions = {},
  ) {
    this.options = {
      mode: options.mode ?? "hybrid",
      candidates: options.candidates ?? 100,
      rrfK: options.rrfK ?? 20,
      perPage: options.perPage ?? 2,
      minDenseScore: options.minDenseScore ?? 0.25,
      minCoverage: options.minCoverage ?? 0.3,
      weights: { lexical: 1, dense: 0.6, page: 1, ...options.weights },
      bm25: options.bm25 ?? {},
      pageBm25: options.pageBm25 ?? {},
      aggregate: options.aggregate ?? {},
      proximity: options.proximity ?? { window: 5, weight: 0.5 },
      hubPages: options.hubPages ?? { linkShare: 0.5, factor: 0.5 },
    };
    this.chunkIndex = new LexicalIndex(
      [...records.values()].map((record) => ({
        id: record.id,
        title: record.title,
        headings: headingsOf(record),
        body: record.text,
      })),
      { ...this.options.bm25, positions: this.options.proximity.weight > 0 },
    );
    const pages = new Map<string, LexicalDocument & { headingSet: Set<string>; bodies: string[] }>();
    const textChars = new Map<string, [text: number, links: number]>();
    for (const record of records.values()) {
      const [text, links] = linkShare(record.text);
      if (text > 0 && links / text > this.options.hubPages.linkShare) this.linkLists.add(record.id);
      const sums = textChars.get(record.docId) ?? [0, 0];
      textChars.set(record.docId, [sums[0] + text, sums[1] + links]);
      let page = pages.get(record.docId);
      if (!page) {
        page = { id: record.docId, title: record.title, headings: "", body: "", headingSet: new Set(), bodies: [] };
        pages.set(record.docId, page);
      }
      page.headingSet.add(headingsOf(record));
      page.bodies.push(record.text);
    }
    this.pageIndex = new LexicalIndex(
      [...pages.values()].map((page) => ({
        id: page.id,
        title: page.title,
        headings: [...page.headingSet].join(" "),
        body: page.bodies.join("\n"),
      })),
      { headingWeight: 2, ...this.options.pageBm25 },
    );
    for (const [docId, [text, links]] of textChars) {
      if (text > 0 && links / text > this.options.hubPages.linkShare) this.hubs.add(docId);
    }
  }

  describe(): { store: StoreKind; embedder: string; chunks: number } {
    return { store: this.storeKind, embedder: this.embedder?.id ?? "none", chunks: this.records.size };
  }

  async rankPages(question: string, signal?: AbortSignal): Promise<RankedPage[]> {
    const { mode, candidates, rrfK, minDenseScore, weights } = this.options;
    const lexical =
      mode === "dense"
        ? []
        : this.chunkIndex
            .search(question, candidates, this.options.proximity)
            .filter((hit) => !this.linkLists.has(hit.id));
    const pageLexical = mode === "dense" ? [] : this.pageIndex.search(question, candidates);
    let dense: { id: string; score: number }[] = [];
    if (mode !== "bm25" && this.store && this.embedder) {
      const vector = await this.embedder.embedQuery(question, signal);
      dense = (await this.store.query(vector, candidates)).filter((hit) => !this.linkLists.has(hit.id));
      // In hybrid mode the floor only gates dense-only passages; in dense mode it is the whole floor.
      dense = dense.filter((hit) => hit.score >= minDenseScore || mode === "dense");
      if (mode === "dense" && (dense[0]?.score ?? 0) < minDenseScore) dense = [];
    }
    if (!lexical.length && !dense.length) return [];
    if (!dense.length && !this.covers(question, lexical)) return [];

    const chunkScores = new Map<string, number>();
    const pageScores = new Map<string, number>();
    const addPageRanks = (hits: { id: string }[], pageOf: (id: string) => string | undefined, weight: number) => {
      const seen = new Set<string>();
      for (const hit of hits) {
        const docId = pageOf(hit.id);
        if (!docId || seen.has(docId)) continue;
        seen.add(docId);
        pageScores.set(docId, (pageScores.get(docId) ?? 0) + weight / (rrfK + seen.size));
      }
    };
    for (const [list, weight] of [
      [lexical, weights.lexical ?? 1],
      [dense, weights.dense ?? 1],
    ] as const) {
      list.forEach((hit, rank) => {
        chunkScores.set(hit.id, (chunkScores.get(hit.id) ?? 0) + weight / (rrfK + rank + 1));
      });
    }
    addPageRanks(this.aggregatePages(lexical), (id) => id, weights.lexical ?? 1);
    addPageRanks(dense, (id) => this.records.get(id)?.docId, weights.dense ?? 1);
    const matchedPages = new Set([...lexical, ...dense].map((hit) => this.records.get(hit.id)?.docId));
    addPageRanks(
      pageLexical.filter((hit) => matchedPages.has(hit.id)),
      (id) => id,
      weights.page ?? 1,
    );

    for (const docId of this.hubs) {
      const score = pageScores.get(docId);
      if (score !== undefined) pageScores.set(docId, score * this.options.hubPages.factor);
    }
    const pages = new Map<string, RankedPage>();
    for (const [id, score] of chunkScores) {
      const record = this.records.get(id);
      if (!record) continue;
      let page = pages.get(record.docId);
      if (!page) {
        page = { docId: record.docId, score: pageScores.get(record.docId) ?? 0, chunks: [] };
        pages.set(record.docId, page);
      }
      page.chunks.push({ record, score });
    }
    const ranked = [...pages.values()];
    for (const page of ranked) page.chunks.sort((a, b) => b.score - a.score);
    ranked.sort((a, b) => b.score - a.score || (b.chunks[0]?.score ?? 0) - (a.chunks[0]?.score ?? 0));
    return ranked;
  }

  /** Whether one of the best lexical passages holds enough of the question in words (see minCoverage). */
  private covers(question: string, hits: readonly LexicalHit[]): boolean {
    const terms = [...new Set(lexicalTerms(question))];
    const unseen = Math.log(1 + (this.chunkIndex.size + 0.5) / 0.5);
    const weights = terms.map((term) => this.chunkIndex.idf(term) || unseen);
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    if (total === 0) return false;
    return hits.slice(0, COVERAGE_CANDIDATES).some((hit) => {
      const record = this.records.get(hit.id);
      if (!record) return false;
      const said = new Set(lexicalTerms(`${record.section}\n${withoutCode(record.text)}`));
      const covered = terms.reduce((sum, term, i) => sum + (said.has(term) ? (weights[i] ?? 0) : 0), 0);
      return covered / total >= this.options.minCoverage;
    });
  }

  /** Pages ranked by their aggregated passage scores (see HybridOptions.aggregate). */
  private aggregatePages(hits: readonly LexicalHit[]): LexicalHit[] {
    const depth = this.options.aggregate.depth ?? 1;
    const decay = this.options.aggregate.decay ?? 0;
    const perPage = new Map<string, number[]>();
    for (const hit of hits) {
      const docId = this.records.get(hit.id)?.docId;
      if (!docId) continue;
      const scores = perPage.get(docId) ?? [];
      if (scores.length < depth) scores.push(hit.score);
      perPage.set(docId, scores);
    }
    return [...perPage]
      .map(([id, scores]) => ({ id, score: scores.reduce((sum, score, i) => sum + score * decay ** i, 0) }))
      .sort((a, b) => b.score - a.score);
  }

  async retrieve(question: string, options: RetrieveOptions = {}): Promise<RetrievedSource[]> {
    const k = options.k ?? 5;
    const sources: RetrievedSource[] = [];
    for (const page of await this.rankPages(question, options.signal)) {
      for (const { record } of page.chunks.slice(0, this.options.perPage)) {
        if (sources.length >= k) return sources;
        sources.push({
          n: sources.length + 1,
          docId: record.docId,
          title: record.title,
          section: record.section,
          url: record.url,
          text: record.text,
          score: page.score,
        });
      }
    }
    return sources;
  }
}
