import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createCmlModel, mistralPrompt } from "../../src/workloads/llm/cml.js";
import { collectAnswer } from "../../src/workloads/llm/pipeline.js";
import { buildModelInput } from "../../src/workloads/llm/prompt.js";
import { parseMistralPrompt, predict } from "../../src/workloads/model/predict.js";
import { fixedRetriever, PASSAGES, sources } from "./fixtures.js";

const root = join(import.meta.dirname, "../..");
const plainSources = PASSAGES.map(({ title, url, text }) => ({ title, url, text }));

describe("model function predict(args)", () => {
  it("answers from given sources with valid citations", async () => {
    const result = await predict({ question: "How do I handle exceptions with try?", sources: plainSources });
    expect(result.answer).toMatch(/try/);
    expect(result.citations).toContainEqual({ n: 3, title: "Errors and Exceptions", url: PASSAGES[2]?.url });
    const cited = [...result.answer.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(new Set(cited)).toEqual(new Set(result.citations.map((c) => c.n)));
  });

  it("rejects input it cannot use, saying what to send", async () => {
    await expect(predict("hi")).rejects.toThrow(/JSON object/);
    await expect(predict({ question: "" })).rejects.toThrow(/question/);
    await expect(predict({ question: "x" })).rejects.toThrow(/sources.*dataDir/);
    await expect(predict({ question: "x", sources: [{ title: "no text" }] })).rejects.toThrow(/sources\[0\]/);
  });

  it("recovers question and sources from the cml back-end's Mistral prompt", () => {
    const prompt = mistralPrompt(buildModelInput("What do list comprehensions do?", sources()));
    const parsed = parseMistralPrompt(prompt);
    expect(parsed.question).toBe("What do list comprehensions do?");
    expect(parsed.sources.map((s) => [s.n, s.url])).toEqual(sources().map((s) => [s.n, s.url]));
    expect(parsed.sources[1]?.text).toBe(sources()[1]?.text);
  });

  it("serves the cml back-end end to end: prompt in, {success, response} envelope out", async () => {
    const served: typeof fetch = async (_url, init) => {
      const body: unknown = JSON.parse(String(init?.body));
      const request = typeof body === "object" && body !== null && "request" in body ? body.request : undefined;
      return Response.json({ success: true, response: await predict(request) });
    };
    const model = createCmlModel({ url: "http://127.0.0.1:1/model", accessKey: "k", fetch: served });
    const result = await collectAnswer(
      { question: "What do list comprehensions do?", temperature: 0, maxTokens: 200 },
      { retriever: fixedRetriever(), model },
    );
    expect(result.error).toBeUndefined();
    expect(result.answer).toMatch(/comprehension/i);
    expect(result.cited.length).toBeGreaterThan(0);
  });
});

describe("launchers/model.py", () => {
  const python = spawnSync("python3", ["--version"]).status === 0;
  const call = (args: unknown) =>
    spawnSync(
      "python3",
      [
        "-c",
        `import json,sys; sys.path.insert(0, "launchers"); import model; print(json.dumps(model.predict(json.loads(sys.argv[1]))))`,
        JSON.stringify(args),
      ],
      { cwd: root, env: { PATH: process.env.PATH ?? "", CML_LAB_PROJECT_DIR: root }, encoding: "utf8" },
    );

  it("runs predict through node and returns its JSON (python3 present here)", () => {
    expect(python).toBe(true);
    const result = call({ question: "How does the for statement iterate?", sources: plainSources });
    expect(result.status).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.answer).toMatch(/\[1\]/);
    expect(output.citations[0]).toMatchObject({ n: 1, title: "More Control Flow Tools" });
  });

  it("raises ValueError with node's message for bad input", () => {
    const result = call({ question: "" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/ValueError: `question` must be a non-empty string/);
  });
});
