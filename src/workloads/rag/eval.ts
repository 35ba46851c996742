import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../../shared/errors.js";
import { shapeOf } from "../../shared/json-shape.js";
import { extractPage } from "../ingest/extract.js";
import { listHtmlPages } from "../ingest/html-pages.js";
import { type IndexEvent, indexPages } from "../ingest/index-pages.js";
import { ChunkCatalog } from "./catalog.js";
import type { Embedder } from "./embedders/embedder.js";
import type { EvalConfig } from "./eval-configs.js";
import { HybridRetriever, type RetrievalMode } from "./hybrid.js";
import { LexicalIndex } from "./lexical.js";
import { LocalStore } from "./stores/local.js";

export { EVAL_CONFIGS, type EvalConfig } from "./eval-configs.js";

export interface EvalQuestion {
  id: string;
  question: string;
  expected: string[];
  kind: string;
}

export interface ConfigResult {
  "hit@1": number;
  "hit@5": number;
  "hit@10": number;
  "mrr@10": number;
  "ndcg@10": number;
  /** hit@5 per question kind. */
  byKind: Record<string, number>;
  /** Mean milliseconds per question. */
  queryMs: number;
  /** Median milliseconds per question. */
  queryP50Ms: number;
  /** Question ids missed at 5, to compare systems question by question. */
  missedAt5: string[];
}

export interface EvalReport {
  corpus: string;
  pages: number;
  chunks: number;
  questions: number;
  embedder: string;
  ingestSeconds: number;
  configs: Partial<Record<EvalConfig, ConfigResult>>;
}

/** A line of a questions file; `kind` is read when it is a string, else the question is "other". */
const isQuestionLine = shapeOf<{ id: string; question: string; expected: string[]; kind?: unknown }>({
  type: "object",
  required: ["id", "question", "expected"],
  properties: {
    id: { type: "string" },
    question: { type: "string" },
    expected: { type: "array", items: { type: "string" } },
  },
});

/** Reads a questions file; each bad line is reported with its file:line. */
export function loadQuestions(file: string): EvalQuestion[] {
  const questions: EvalQuestion[] = [];
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, index) => {
      if (!line.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new UserError(`not JSON: ${error instanceof Error ? error.message : String(error)}`, {
          location: `${file}:${index + 1}:1`,
        });
      }
      if (isQuestionLine(value)) {
        const kind = typeof value.kind === "string" ? value.kind : "other";
        questions.push({ id: value.id, question: value.question, expected: value.expected, kind });
        return;
      }
      throw new UserError("a question needs id, question and expected (array of page paths)", {
        location: `${file}:${index + 1}:1`,
      });
    });
  return questions;
}

/**
 * Selects questions by id for a dev/test split: `odd` and `even` by the last number in the id (py-007 is odd),
 * anything else is a regular expression the id must match. Tune on one half, report the other.
 */
export function filterQuestions(questions: readonly EvalQuestion[], filter: string): EvalQuestion[] {
  if (filter === "odd" || filter === "even") {
    const want = filter === "odd" ? 1 : 0;
    return questions.filter((question) => {
      const digits = /(\d+)\D*$/.exec(question.id)?.[1];
      return digits !== undefined && Number(digits) % 2 === want;
    });
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(filter);
  } catch (error) {
    throw new UserError(`--questions-filter: ${error instanceof Error ? error.message : String(error)}`);
  }
  return questions.filter((question) => pattern.test(question.id));
}

type PageRanker = (question: string) => Promise<string[]>;

/**
 * Ingests every HTML file under `corpus` (document id = path relative to it) into a temporary local store and
 * scores each config on the questions (page-level: chunks map to their page, first occurrence counts).
 */
export async function runEval(options: {
  corpus: string;
  questions: readonly EvalQuestion[];
  configs: readonly EvalConfig[];
  embedder: Embedder;
  onEvent?: (event: IndexEvent) => void;
}): Promise<EvalReport> {
  const files = listHtmlPages(options.corpus);
  if (!files.length) throw new UserError(`no .html files under ${options.corpus}`);
  const html = new Map(files.map((file) => [file, readFileSync(join(options.corpus, file), "utf8")]));
  const work = mkdtempSync(join(tmpdir(), "cml-lab-eval-"));
  try {
    const catalog = ChunkCatalog.open(work);
    const store = new LocalStore(catalog);
    const started = performance.now();
    const summary = await indexPages({
      pages: files.map((file) => ({
        docId: file,
        url: file,
        sha256: createHash("sha256")
          .update(html.get(file) ?? "")
          .digest("hex"),
        read: async () => html.get(file) ?? "",
      })),
      store,
      catalog,
      embedder: options.embedder,
      onEvent: options.onEvent,
    });
    const ingestSeconds = (performance.now() - started) / 1000;
    const rankers = new Map<EvalConfig, PageRanker>();
    const records = catalog.chunks();
    for (const config of options.configs) {
      if (config === "hybrid" || config === "bm25" || config === "dense") {
        const mode: RetrievalMode = config;
        const retriever = new HybridRetriever(records, store, options.embedder, "local", { mode });
        rankers.set(config, async (q) => (await retriever.rankPages(q)).map((page) => page.docId));
      }
    }
    const needsPages = options.configs.includes("bm25-page") || options.configs.includes("lab-baseline");
    const pageText = needsPages ? new Map(files.map((file) => [file, extractPage(html.get(file) ?? "")])) : new Map();
    if (options.configs.includes("bm25-page")) {
      // Plain BM25 over whole pages: no field weights, no headings boost.
      const index = new LexicalIndex(
        [...pageText].map(([id, page]) => ({ id, title: "", headings: "", body: `${page.title}\n${page.markdown}` })),
      );
      rankers.set("bm25-page", async (q) => index.search(q, 10).map((hit) => hit.id));
    }
    if (options.configs.includes("lab-baseline")) {
      // The lab's method: one vector per page from its first 256 tokens, and the top-1 page only.
      const ids = [...pageText.keys()];
      const heads = [...pageText.values()].map((page) =>
        `${page.title}\n${page.markdown}`.split(/\s+/).slice(0, 256).join(" "),
      );
      const vectors = await options.embedder.embedDocuments(heads);
      rankers.set("lab-baseline", async (q) => {
        const query = await options.embedder.embedQuery(q);
        let best = -1;
        let bestScore = Number.NEGATIVE_INFINITY;
        vectors.forEach((vector, row) => {
          let dot = 0;
          for (let i = 0; i < vector.length; i++) dot += (vector[i] ?? 0) * (query[i] ?? 0);
          if (dot > bestScore) {
            bestScore = dot;
            best = row;
          }
        });
        return best >= 0 ? [ids[best] ?? ""] : [];
      });
    }
    const configs: Partial<Record<EvalConfig, ConfigResult>> = {};
    for (const config of options.configs) {
      const ranker = rankers.get(config);
      if (ranker) configs[config] = await score(ranker, options.questions);
    }
    return {
      corpus: options.corpus,
      pages: files.length,
      chunks: summary.chunksTotal,
      questions: options.questions.length,
      embedder: options.embedder.id,
      ingestSeconds,
      configs,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function score(ranker: PageRanker, questions: readonly EvalQuestion[]): Promise<ConfigResult> {
  let hit1 = 0;
  let hit5 = 0;
  let hit10 = 0;
  let mrr = 0;
  let ndcg = 0;
  let ms = 0;
  const times: number[] = [];
  const kinds = new Map<string, { n: number; hits: number }>();
  const missedAt5: string[] = [];
  for (const question of questions) {
    const started = performance.now();
    const ranked = [...new Set(await ranker(question.question))].slice(0, 10);
    const elapsed = performance.now() - started;
    ms += elapsed;
    times.push(elapsed);
    const expected = new Set(question.expected);
    const first = ranked.findIndex((docId) => expected.has(docId));
    if (first === 0) hit1++;
    if (first >= 0 && first < 5) hit5++;
    else missedAt5.push(question.id);
    if (first >= 0) {
      hit10++;
      mrr += 1 / (first + 1);
    }
    let dcg = 0;
    ranked.forEach((docId, rank) => {
      if (expected.has(docId)) dcg += 1 / Math.log2(rank + 2);
    });
    let ideal = 0;
    for (let rank = 0; rank < Math.min(expected.size, 10); rank++) ideal += 1 / Math.log2(rank + 2);
    ndcg += ideal ? dcg / ideal : 0;
    const kind = kinds.get(question.kind) ?? { n: 0, hits: 0 };
    kind.n++;
    if (first >= 0 && first < 5) kind.hits++;
    kinds.set(question.kind, kind);
  }
  const n = questions.length || 1;
  const round = (value: number) => Math.round(value * 1000) / 1000;
  return {
    "hit@1": round(hit1 / n),
    "hit@5": round(hit5 / n),
    "hit@10": round(hit10 / n),
    "mrr@10": round(mrr / n),
    "ndcg@10": round(ndcg / n),
    byKind: Object.fromEntries([...kinds].map(([kind, value]) => [kind, round(value.hits / value.n)])),
    queryMs: round(ms / n),
    queryP50Ms: round(times.sort((a, b) => a - b)[times.length >> 1] ?? 0),
    missedAt5,
  };
}
