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
});
