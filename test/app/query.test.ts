import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { renderQuery, runQuery } from "../../src/workloads/model-query/query.js";
import { bufferIo } from "../helpers/buffer-io.js";
import { CANARY, fixedRetriever } from "./fixtures.js";

// A cwd no test file lives in: the query must not read anything relative to it.
const bufferIoAt = (env: NodeJS.ProcessEnv = {}) => bufferIo(env, "/nonexistent-cwd");

describe("runQuery (the shared pipeline behind cml-lab query)", () => {
  it("retrieves, answers with citations and reports timings", async () => {
    const result = await runQuery({
      question: "How do list comprehensions create lists?",
      model: "offline",
      store: "local",
      env: {},
      openRetriever: async () => fixedRetriever(),
    });
    expect(result.error).toBeUndefined();
    expect(result.answer).toMatch(/comprehension/i);
    expect(result.cited.length).toBeGreaterThan(0);
    const text = renderQuery(result).join("\n");
    expect(text).toMatch(/^Answer \(offline, store local\):/);
    expect(text).toMatch(/Sources:\n {2}\[1\] Data Structures › List Comprehensions\n {6}https:\/\/docs.example/);
    expect(text).toMatch(
      /Timings: retrieval \d+ ms · first token \d+ ms · total \d+ ms · tokens \d+ in \/ \d+ out \(estimated\)/,
    );
  });

  it("refuses an unconfigured model or unavailable store with the reason, never a secret", async () => {
    await expect(
      runQuery({
        question: "q",
        model: "cml",
        store: "none",
        env: { CML_LAB_CML_MODEL_ACCESS_KEY: CANARY },
        openRetriever: async () => fixedRetriever(),
      }),
    ).rejects.toThrow(/CML_LAB_CML_MODEL_URL/);
    await expect(
      runQuery({
        question: "q",
        model: "offline",
        store: "chroma",
        env: {},
        openRetriever: async () => ({ unavailable: "chroma is down" }),
      }),
    ).rejects.toThrow(/chroma is down/);
  });
});

describe("cml-lab query", () => {
  it("prints JSON with --json (store none)", async () => {
    const { io, out } = bufferIoAt();
    const code = await main(["query", "What is Python?", "--store", "none", "--json"], io);
    expect(code).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json).toMatchObject({ question: "What is Python?", model: "offline", store: "none", sources: [] });
    expect(json.usage.totalMs).toBeGreaterThanOrEqual(0);
  });

  it("explains a missing data directory and an unconfigured back-end as user errors", async () => {
    const missing = bufferIoAt();
    expect(await main(["query", "q"], missing.io)).toBe(1);
    expect(missing.out.stderr).toMatch(/no ingested data in \/nonexistent-cwd\/data/);
    const unconfigured = bufferIoAt({ CML_LAB_OPENAI_API_KEY: CANARY });
    expect(await main(["query", "q", "--store", "none", "--model", "openai"], unconfigured.io)).toBe(1);
    expect(unconfigured.out.stderr).toMatch(/^error: model openai is not configured: set CML_LAB_OPENAI_BASE_URL/);
    expect(unconfigured.out.stderr + unconfigured.out.stdout).not.toContain(CANARY);
    const bad = bufferIoAt();
    expect(await main(["query", "q", "--store", "none", "--max-tokens", "0"], bad.io)).toBe(1);
    expect(bad.out.stderr).toMatch(/--max-tokens/);
  });

  it("refuses a blank or over-long question and numbers out of range, through the real bin, one line each", async () => {
    const bin = join(import.meta.dirname, "..", "..", "bin", "cml-lab.js");
    const cases: Array<[string[], RegExp]> = [
      [[""], /^error: the question is empty$/],
      [["  \t "], /^error: the question is empty$/],
      [["a".repeat(4_001)], /^error: the question has 4001 characters; at most 4000$/],
      [["q", "--k", "-1"], /^error: --k must be a whole number from 1 to 20, got -1$/],
      [["q", "--k", "abc"], /^error: --k must be a whole number from 1 to 20, got NaN$/],
      [["q", "--k", "0"], /^error: --k must be a whole number from 1 to 20, got 0$/],
      [["q", "--k", "21"], /^error: --k must be a whole number from 1 to 20, got 21$/],
      [["q", "--k", "2.5"], /^error: --k must be a whole number from 1 to 20, got 2.5$/],
      [["q", "--temperature", "NaN"], /^error: --temperature must be a number from 0 to 1, got NaN$/],
      [["q", "--max-tokens", "4097"], /^error: --max-tokens must be a whole number from 1 to 4096, got 4097$/],
    ];
    for (const [args, expected] of cases) {
      const run = await promisify(execFile)(process.execPath, [bin, "query", ...args, "--store", "none"], {
        env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent" },
      }).then(
        () => ({ code: 0, stdout: "", stderr: "" }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(run.code, args.join(" ").slice(0, 40)).toBe(1);
      expect(run.stderr.trim(), args.join(" ").slice(0, 40)).toMatch(expected);
      expect(run.stdout).toBe("");
    }
  });
});
