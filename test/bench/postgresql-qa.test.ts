import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// The held-out PostgreSQL question set is data for `cml-lab eval`; this test checks only that the file is
// well-formed (and, where the Debian package postgresql-doc-15 is installed, that every expected page exists and
// the set still passes its own checks). It never runs retrieval: the set stays held out.
const ROOT = join(import.meta.dirname, "../..");
const QA = join(ROOT, "bench/eval/postgresql-15-qa.jsonl");
const PG_DOCS = process.env.PG_DOCS ?? "/usr/share/doc/postgresql-doc-15/html";
const corpus = existsSync(PG_DOCS);
const KINDS: Record<string, number> = { howto: 10, fact: 8, concept: 8, troubleshoot: 7, config: 7 };

interface Question {
  id: string;
  question: string;
  expected: string[];
  kind: string;
}

function readQuestions(): Question[] {
  return readFileSync(QA, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      const raw: unknown = JSON.parse(line);
      if (typeof raw !== "object" || raw === null) throw new Error(`line ${i + 1}: not an object`);
      expect(Object.keys(raw), `line ${i + 1}`).toEqual(["id", "question", "expected", "kind"]);
      if (!("id" in raw && "question" in raw && "expected" in raw && "kind" in raw)) {
        throw new Error(`line ${i + 1}: missing field`);
      }
      const { id, question, expected, kind } = raw;
      if (typeof id !== "string" || typeof question !== "string" || typeof kind !== "string") {
        throw new Error(`line ${i + 1}: id, question and kind must be strings`);
      }
      if (!Array.isArray(expected) || !expected.every((e): e is string => typeof e === "string")) {
        throw new Error(`line ${i + 1}: expected must be a list of strings`);
      }
      return { id, question, expected, kind };
    });
}

describe("bench/eval/postgresql-15-qa.jsonl", () => {
  it("has 40 well-formed questions in the planned mix of kinds", () => {
    const questions = readQuestions();
    expect(questions.map((q) => q.id)).toEqual(
      Array.from({ length: 40 }, (_, i) => `pg-${String(i + 1).padStart(3, "0")}`),
    );
    const kinds: Record<string, number> = {};
    for (const q of questions) {
      kinds[q.kind] = (kinds[q.kind] ?? 0) + 1;
      expect(q.question.trim().split(/\s+/).length, q.id).toBeGreaterThanOrEqual(3);
      expect(q.expected.length, q.id).toBeGreaterThanOrEqual(1);
      expect(q.expected.length, q.id).toBeLessThanOrEqual(4);
      expect(new Set(q.expected).size, q.id).toBe(q.expected.length);
      for (const page of q.expected) expect(page, q.id).toMatch(/^[a-z0-9][a-z0-9._-]*\.html$/);
    }
    expect(kinds).toEqual(KINDS);
  });

  it(corpus
    ? `every expected page exists in ${PG_DOCS} and the set passes qa-tool check`
    : `format only: PostgreSQL 15 docs not installed at ${PG_DOCS}, so expected pages and answer passages are not checked`, async () => {
    const questions = readQuestions();
    if (corpus) {
      const missing = questions.flatMap((q) => q.expected.filter((p) => !existsSync(join(PG_DOCS, p))));
      expect(missing).toEqual([]);
    }
    // The checker reads the pages when they are there and checks only the file's shape when they are not.
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, "bench/eval/qa-tool.mjs"), "check"], {
      env: { ...process.env, PG_DOCS },
    });
    expect(stdout).toContain("40 questions");
    expect(stdout).not.toContain("PROBLEM");
    expect(stdout).toContain(corpus ? "corpus present" : "format checks only");
  }, 30_000);
});
