import { describe, expect, it } from "vitest";
import { CitationFilter, filterCitations } from "../../src/workloads/llm/citations.js";
import { extractiveAnswer, NO_SENTENCE_ANSWER, NO_SOURCES_ANSWER } from "../../src/workloads/llm/offline.js";
import { buildModelInput, condenseQuestion, trimHistory } from "../../src/workloads/llm/prompt.js";
import { sources } from "./fixtures.js";

describe("citation filter", () => {
  it("removes numbers that were not provided, however the stream splits them", () => {
    const text = "Loops iterate [1]. Comprehensions [2][7] build lists [12]. Arrays [x] stay.";
    const chunkings = [[text], text.split(""), text.match(/.{1,3}/g) ?? []];
    for (const chunks of chunkings) {
      const filter = new CitationFilter([1, 2, 3]);
      const out = chunks.map((c) => filter.push(c)).join("") + filter.flush();
      expect(out).toBe("Loops iterate [1]. Comprehensions [2] build lists . Arrays [x] stay.");
      expect([...filter.cited].sort()).toEqual([1, 2]);
    }
  });

  it("passes a trailing bracket that never became a citation", () => {
    expect(filterCitations("see [", [1]).text).toBe("see [");
    expect(filterCitations("see [4", [1]).text).toBe("see [4");
  });
});

describe("prompt", () => {
  it("gives the model link labels, not link targets, and no Markdown escapes", () => {
    const linked = sources().map((source, i) =>
      i === 0
        ? {
            ...source,
            text: 'Use [`sys.stdout`](../library/sys.html#sys.stdout "sys.stdout") or ![chart](c.png) with pg\\_dump.',
          }
        : source,
    );
    const last = buildModelInput("How do for loops work?", linked).messages.at(-1)?.content ?? "";
    expect(last).toContain("\nUse `sys.stdout` or chart with pg_dump.\n");
    expect(last).not.toContain("../library/sys.html");
  });

  it("numbers the sources, keeps the question last, and instructs to cite", () => {
    const input = buildModelInput("How do for loops work?", sources());
    const last = input.messages.at(-1)?.content ?? "";
    expect(last).toMatch(
      /^Sources:\n\n\[1\] More Control Flow Tools › for Statements \(https:\/\/docs.example\/tutorial\/controlflow.html#for-statements\)/,
    );
    expect(last).toContain("[3] Errors and Exceptions › Handling Exceptions");
    expect(last.endsWith("Question: How do for loops work?")).toBe(true);
    expect(input.system).toMatch(/cite/i);
    expect(input.grounded).toBe(true);
  });

  it("answers directly with store none", () => {
    const input = buildModelInput("Hi?", [], [], false);
    expect(input.messages).toEqual([{ role: "user", content: "Hi?" }]);
    expect(input.system).not.toMatch(/sources/);
  });

  it("keeps recent history within budget and never starts with an assistant turn", () => {
    const history = Array.from({ length: 20 }, (_, i) => ({
      role: i % 2 === 0 ? ("user" as const) : ("assistant" as const),
      content: `turn ${i}`,
    }));
    const kept = trimHistory(history);
    expect(kept.length).toBeLessThanOrEqual(6);
    expect(kept[0]?.role).toBe("user");
    expect(kept.at(-1)?.content).toBe("turn 19");
  });

  it("condenses a follow-up with the previous question, and leaves a standalone question alone", () => {
    const history = [
      { role: "user" as const, content: "What is a list comprehension?" },
      { role: "assistant" as const, content: "A concise way to create lists [1]." },
    ];
    expect(condenseQuestion("How fast is it?", history)).toBe("What is a list comprehension? How fast is it?");
    expect(condenseQuestion("How do I handle exceptions in Python programs properly?", history)).toBe(
      "How do I handle exceptions in Python programs properly?",
    );
    expect(condenseQuestion("How fast is it?", [])).toBe("How fast is it?");
  });
});

describe("offline extractive answer", () => {
  it("picks the matching sentences and cites their sources, deterministically", () => {
    const a = extractiveAnswer("How do I handle exceptions with try?", sources());
    expect(a).toContain("[3]");
    expect(a).toMatch(/try/);
    expect(extractiveAnswer("How do I handle exceptions with try?", sources())).toBe(a);
    const cited = [...a.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(cited.every((n) => n >= 1 && n <= 3)).toBe(true);
  });

  it("says it does not know when nothing matches", () => {
    expect(extractiveAnswer("quantum chromodynamics", sources())).toBe(NO_SENTENCE_ANSWER);
    expect(extractiveAnswer("anything", [])).toBe(NO_SOURCES_ANSWER);
  });
});
