import type { RetrievedSource, Retriever, StoreKind } from "../../src/workloads/rag/types.js";

/** A canary secret: no response, log line or error may ever contain it. */
export const CANARY = "canary-SECRET-7f3a9c1e-never-print";

export const PASSAGES: Omit<RetrievedSource, "n" | "score">[] = [
  {
    docId: "tutorial/controlflow.html",
    title: "More Control Flow Tools",
    section: "More Control Flow Tools › for Statements",
    url: "https://docs.example/tutorial/controlflow.html#for-statements",
    text: "Python's for statement iterates over the items of any sequence, in the order that they appear. A for loop can also iterate over a range of numbers with range().",
  },
  {
    docId: "tutorial/datastructures.html",
    title: "Data Structures",
    section: "Data Structures › List Comprehensions",
    url: "https://docs.example/tutorial/datastructures.html#list-comprehensions",
    text: "List comprehensions provide a concise way to create lists. A list comprehension consists of brackets containing an expression followed by a for clause.",
  },
  {
    docId: "tutorial/errors.html",
    title: "Errors and Exceptions",
    section: "Errors and Exceptions › Handling Exceptions",
    url: "https://docs.example/tutorial/errors.html#handling-exceptions",
    text: "It is possible to write programs that handle selected exceptions. The try statement works as follows: first, the try clause is executed.",
  },
];

/** A tiny lexical retriever over fixed passages: enough to drive the app without an ingest. */
export function fixedRetriever(
  passages = PASSAGES,
  store: StoreKind = "local",
  options: { delayMs?: number; fail?: string } = {},
): Retriever & { queries: string[] } {
  const queries: string[] = [];
  return {
    queries,
    describe: () => ({ store, embedder: "test", chunks: passages.length }),
    async retrieve(question, opts) {
      queries.push(question);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (options.fail) throw new Error(options.fail);
      const words = question.toLowerCase().match(/[a-z]+/g) ?? [];
      return passages
        .map((p) => ({ p, score: words.filter((w) => w.length > 2 && p.text.toLowerCase().includes(w)).length }))
        .filter((x) => x.score > 0)
        .sort((a, b) => b.score - a.score)
        .slice(0, opts?.k ?? 5)
        .map((x, i) => ({ ...x.p, n: i + 1, score: x.score }));
    },
  };
}

export function sources(): RetrievedSource[] {
  return PASSAGES.map((p, i) => ({ ...p, n: i + 1, score: 1 - i / 10 }));
}
