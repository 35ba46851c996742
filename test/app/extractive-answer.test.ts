import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { indexPages } from "../../src/workloads/ingest/index-pages.js";
import { createOfflineModel, NO_SOURCES_ANSWER } from "../../src/workloads/llm/offline.js";
import { collectAnswer } from "../../src/workloads/llm/pipeline.js";
import { ChunkCatalog } from "../../src/workloads/rag/catalog.js";
import { createHashEmbedder } from "../../src/workloads/rag/embedders/hash.js";
import { openRetriever } from "../../src/workloads/rag/index.js";
import { catalogDir } from "../../src/workloads/rag/open-retriever.js";
import { proseSentences } from "../../src/workloads/rag/sentences.js";
import { LocalStore } from "../../src/workloads/rag/stores/local.js";
import type { Retriever } from "../../src/workloads/rag/types.js";
import { samplePages } from "../rag/helpers.js";

/**
 * A source's text as a reader sees it, made independently of the answerer: link targets and footnote marks out,
 * Markdown escapes undone, whitespace collapsed. Every sentence of an answer must be a substring of it.
 */
function asRead(markdown: string): string {
  return markdown
    .replace(/!?\[([^\]\n]*)\]\([^)\s]*(?:\s+"[^"]*")?\)/g, "$1")
    .replace(/\\([!-/:-@[-`{-~])/g, "$1")
    .replace(/\[\d+\]/g, "")
    .replace(/\s+/g, " ");
}

/** The answer cut at its citations: each sentence with the source number that follows it. */
function citedSentences(answer: string): { text: string; n: number }[] {
  return [...answer.matchAll(/\s*([^[]+?)\s*\[(\d+)\]/g)].map((m) => ({ text: m[1] ?? "", n: Number(m[2]) }));
}

describe("proseSentences: whole sentences out of extracted Markdown", () => {
  it("keeps names, code spans and link labels whole and leaves out what is not a sentence", () => {
    const markdown = [
      'continued from the previous passage, so not a sentence start. The [`collections.deque`](../library/collections.html#collections.deque "collections.deque") type was designed for fast appends.',
      "",
      "If it is a tuple, `PyTuple_Size()` returns its length and `PyTuple_GetItem()` returns an item. The [`try`](../reference/compound_stmts.html#try) ... [`except`](x.html) statement has an *else clause*.",
      "",
      "For example, call `os.path.join()` to join paths, e.g. `a` and `b`. This example shows the pattern:",
      "",
      "```python",
      "class Weather:",
      '    "Lookup weather. It is a class."',
      "```",
      "",
      "-   [7.2. Reading and Writing Files](inputoutput.html#reading-and-writing-files)",
      "-   A list item that is a whole sentence with a footnote.[\\[1\\]](#id2)",
      "",
      "| a | b |",
      "|---|---|",
      "| A table cell. | Not prose. |",
    ].join("\n");
    expect(proseSentences(markdown)).toEqual([
      "The `collections.deque` type was designed for fast appends.",
      "If it is a tuple, `PyTuple_Size()` returns its length and `PyTuple_GetItem()` returns an item.",
      "The `try` ... `except` statement has an *else clause*.",
      "For example, call `os.path.join()` to join paths, e.g. `a` and `b`.",
      "A list item that is a whole sentence with a footnote.",
    ]);
  });
});

describe("the offline answerer over the sample corpus", () => {
  let retriever: Retriever;
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "extractive-"));
    const catalog = ChunkCatalog.open(catalogDir(dataDir, "local"));
    const embedder = createHashEmbedder({ dim: 256 });
    await indexPages({ pages: samplePages(), store: new LocalStore(catalog), catalog, embedder });
    retriever = await openRetriever({ dataDir, store: "local" });
  });

  const ask = (question: string) =>
    collectAnswer({ question, temperature: 0, maxTokens: 512 }, { retriever, model: createOfflineModel() });

  // Questions written for this test (none from the eval sets), on topics the sample pages cover.
  const questions = [
    "How do I get the size of a tuple from C code?",
    "What is a deque good for?",
    "How should I handle exceptions in my program?",
    "What does the try statement do?",
    "How do default argument values work?",
    "What are list comprehensions?",
    "How do I read the contents of a file?",
    "How do I format numbers in strings?",
    "How do I create a virtual environment?",
    "What is the difference between a list and a tuple?",
    "How do classes inherit from a base class?",
    "Why does floating point arithmetic give surprising results?",
    "How do I import a module from a package?",
    "What does the break statement do in a loop?",
    "How do I write JSON to a file?",
    "How can I sort a list of tuples?",
  ];

  it("answers with whole sentences copied from the cited sources, names and code spans intact", async () => {
    let checked = 0;
    for (const question of questions) {
      const result = await ask(question);
      expect(result.error, question).toBeUndefined();
      expect(result.sources.length, question).toBeGreaterThan(0);
      const sentences = citedSentences(result.answer);
      expect(sentences.length, `${question}: ${result.answer}`).toBeGreaterThan(0);
      // Nothing outside the cited sentences: every word of the answer belongs to one.
      expect(result.answer.replace(/\s*[^[]+?\s*\[\d+\]/g, "").trim(), question).toBe("");
      for (const { text, n } of sentences) {
        const source = result.sources.find((s) => s.n === n);
        expect(source, `${question}: [${n}]`).toBeDefined();
        expect(asRead(source?.text ?? ""), `${question}: "${text}"`).toContain(text);
        expect(text, question).toMatch(/^[\p{Lu}\p{N}`"'“(*]/u);
        expect(text, question).toMatch(/[^.:][.!?]["'’”)]*$/);
        expect((text.match(/`/g)?.length ?? 0) % 2, `${question}: "${text}"`).toBe(0);
        checked++;
      }
      // No source is a table of contents (a passage that is mostly link lines).
      for (const source of result.sources) {
        const lines = source.text.split("\n").filter((line) => line.trim());
        const linkLines = lines.filter((line) => /^\s*[-*]\s+\[.*\]\(.*\)\s*$/.test(line));
        expect(linkLines.length / lines.length, `${question}: ${source.section}`).toBeLessThan(0.5);
      }
    }
    console.log(`extractive answers: ${questions.length} questions, ${checked} sentences checked`);
  });

  it("keeps the underscores of C API names", async () => {
    const result = await ask("How do I get the size of a tuple from C code?");
    expect(result.answer).toContain("`PyTuple_Size()`");
    expect(result.answer).not.toMatch(/PyTupleSize/);
  });

  it("says plainly that nothing was found, with no sources, for off-topic questions", async () => {
    const offTopic = [
      "what's the weather?",
      "Recipe for a chocolate cake",
      "How do I bake bread?",
      "best pizza in Naples",
    ];
    for (const question of offTopic) {
      const result = await ask(question);
      expect(result.sources, question).toEqual([]);
      expect(result.answer, question).toBe(NO_SOURCES_ANSWER);
      expect(result.answer).not.toMatch(/choose a vector store/i);
    }
  });
});
