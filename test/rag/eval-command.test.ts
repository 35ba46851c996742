import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { filterQuestions } from "../../src/workloads/rag/eval.js";
import { SAMPLES } from "./helpers.js";

const TINY_MODEL = fileURLToPath(new URL("../fixtures/tiny-bert", import.meta.url));

// Made-up questions over the 26-page sample (the real eval set stays out of the test suite).
const QUESTIONS = [
  {
    id: "q1",
    question: "define a class that inherits from another class",
    expected: ["tutorial/classes.html"],
    kind: "howto",
  },
  {
    id: "q2",
    question: "handle an exception raised in a try block",
    expected: ["tutorial/errors.html"],
    kind: "howto",
  },
  { id: "q3", question: "create a virtual environment with venv", expected: ["tutorial/venv.html"], kind: "config" },
];

describe("cml-lab eval", () => {
  it("scores every config and prints one JSON document with --json", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eval-cmd-"));
    const questions = join(dir, "q.jsonl");
    writeFileSync(questions, QUESTIONS.map((q) => JSON.stringify(q)).join("\n"));
    let out = "";
    const code = await main(["eval", "--corpus", SAMPLES, "--questions", questions, "--json"], {
      stdout: (text) => {
        out += text;
      },
      stderr: () => undefined,
      isTTY: false,
      env: {},
      cwd: dir,
    });
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(Object.keys(report.configs).sort()).toEqual(["bm25", "bm25-page", "dense", "hybrid", "lab-baseline"]);
    const hybrid = report.configs.hybrid;
    expect(hybrid["hit@5"]).toBe(1);
    for (const key of ["hit@1", "hit@10", "mrr@10", "ndcg@10"]) expect(hybrid[key]).toBeGreaterThan(0.5);
    // The lab's method returns one page, so its hit@10 can never exceed its hit@1.
    expect(report.configs["lab-baseline"]["hit@10"]).toBe(report.configs["lab-baseline"]["hit@1"]);
    expect(Object.keys(hybrid.byKind).sort()).toEqual(["config", "howto"]);
  });

  it("scores only the configs asked for, repeated or comma-separated, and names a wrong one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eval-cmd-"));
    const questions = join(dir, "q.jsonl");
    writeFileSync(questions, QUESTIONS.map((q) => JSON.stringify(q)).join("\n"));
    const run = async (...configs: string[]) => {
      let out = "";
      let err = "";
      const code = await main(
        ["eval", "--corpus", SAMPLES, "--questions", questions, "--json", ...configs.flatMap((c) => ["--config", c])],
        {
          stdout: (text) => {
            out += text;
          },
          stderr: (text) => {
            err += text;
          },
          isTTY: false,
          env: {},
          cwd: dir,
        },
      );
      return { code, configs: code === 0 ? Object.keys(JSON.parse(out).configs) : [], err };
    };
    expect((await run("hybrid,bm25-page")).configs).toEqual(["hybrid", "bm25-page"]);
    expect((await run("dense", "bm25")).configs).toEqual(["dense", "bm25"]);
    const wrong = await run("hybrid,bm42");
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain("--config bm42: not a config");
  });

  it("measures the embedder an ingest would use: local-onnx from a model directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eval-cmd-"));
    const questions = join(dir, "q.jsonl");
    writeFileSync(questions, QUESTIONS.map((q) => JSON.stringify(q)).join("\n"));
    let out = "";
    const code = await main(
      [
        "eval",
        "--corpus",
        SAMPLES,
        "--questions",
        questions,
        "--json",
        "--config",
        "dense",
        "--embedder",
        "local-onnx",
      ],
      {
        stdout: (text) => {
          out += text;
        },
        stderr: () => undefined,
        isTTY: false,
        env: { CML_LAB_ONNX_MODEL_DIR: TINY_MODEL },
        cwd: dir,
      },
    );
    expect(code).toBe(0);
    expect(JSON.parse(out).embedder).toMatch(/^local-onnx:tiny-bert@[0-9a-f]+:16$/);
  });

  it("points at the bad line of a questions file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eval-cmd-"));
    const questions = join(dir, "q.jsonl");
    writeFileSync(questions, `${JSON.stringify(QUESTIONS[0])}\n{"id": "q2"}\n`);
    let err = "";
    const code = await main(["eval", "--corpus", SAMPLES, "--questions", questions], {
      stdout: () => undefined,
      stderr: (text) => {
        err += text;
      },
      isTTY: false,
      env: {},
      cwd: dir,
    });
    expect(code).toBe(1);
    expect(err).toContain(`${questions}:2:1: error:`);
  });
});

describe("filterQuestions", () => {
  const questions = ["py-001", "py-002", "py-013", "py-040", "misc"].map((id) => ({
    id,
    question: id,
    expected: [],
    kind: "howto",
  }));
  const ids = (filter: string) => filterQuestions(questions, filter).map((q) => q.id);

  it("splits by the number in the id: odd for dev, even for test", () => {
    expect(ids("odd")).toEqual(["py-001", "py-013"]);
    expect(ids("even")).toEqual(["py-002", "py-040"]);
  });

  it("takes any other filter as a regular expression over ids, and reports a bad one", () => {
    expect(ids("^py-0[0-1]")).toEqual(["py-001", "py-002", "py-013"]);
    expect(() => ids("(")).toThrow(/--questions-filter/);
  });
});
