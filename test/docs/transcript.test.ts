/**
 * The docs-as-tests conventions without running anything: which blocks and commands a doc holds (markers, typed
 * input), what counts as the same output (normalised values, `…`), and how a doc is rewritten from a real run.
 */
import { describe, expect, it } from "vitest";
import { DocFormatError, parseDoc } from "./markdown.js";
import { withoutComment } from "./run-docs.js";
import { canonical, describeDiff, matches, outputLines, regenerate } from "./transcript.js";

describe("what varies between runs is compared normalised; everything else must be equal", () => {
  it("ports, ids, pids, keys, times and durations (with the padding that moves with them)", () => {
    expect(canonical("run doyb-w44l-9rys-zkdr of jobs.scrape: ENGINE_SUCCEEDED in 5.1s")).toBe(
      canonical("run 2f6i-uoc7-315r-49pu of jobs.scrape: ENGINE_SUCCEEDED in 12s"),
    );
    expect(canonical("  ~ applications.chat  done       3.3s")).toBe(
      canonical("  ~ applications.chat  done      13.3s"),
    );
    expect(canonical("Timings: retrieval 57 ms · first token 65 ms · total 1m5s")).toBe(
      "Timings: retrieval <duration> · first token <duration> · total <duration>",
    );
    expect(canonical("stopped the local platform (pid 15363) at http://127.0.0.1:42173")).toBe(
      "stopped the local platform (pid <n>) at http://127.0.0.1:<port>",
    );
    expect(canonical("2026-12-05T05:27:20.928Z store chroma ready: 9.9 pages/s")).toBe(
      "<time> store chroma ready: <rate> pages/s",
    );
    // Counts are not normalised: 12 created is not 13 created.
    expect(matches(["Apply: 12 created (10s)."], ["Apply: 13 created (10s)."])).toBe(false);
  });

  it("the temporary copy is shown as the doc writes the checkout, escapes and trailing blank lines go", () => {
    const lines = outputLines("\u001b[32m+\u001b[0m data: /tmp/x/cml-lab/.cml-local\r\n\n\n", [
      "/tmp/x/cml-lab",
      "/tmp/x",
    ]);
    expect(lines).toEqual(["+ data: ~/cml-lab/.cml-local"]);
  });

  it("… alone on a line is any number of lines (none too), inside a line any text", () => {
    const shown = ["run …: ENGINE_SUCCEEDED in 6.2s", "…", "Apply: 13 created"];
    expect(
      matches(shown, ["run abcd-efgh-ijkl-mnop of jobs.scrape: ENGINE_SUCCEEDED in 2s", "Apply: 13 created"]),
    ).toBe(true);
    expect(matches(shown, ["run x: ENGINE_SUCCEEDED in 2s", "a", "b", "Apply: 13 created"])).toBe(true);
    expect(matches(shown, ["run x: ENGINE_FAILED in 2s", "Apply: 13 created"])).toBe(false);
    expect(matches(["a"], ["a", "b"])).toBe(false);
  });
});

describe("regenerating a doc's output from a real run", () => {
  it("keeps lines that still match as the doc writes them, replaces changed ones, keeps …", () => {
    const shown = [
      "…",
      "  + applications.chat: created (3.5s)",
      "Apply: 12 created (10s).",
      "  chat: http://127.0.0.1:42173",
    ];
    const real = [
      "  + project: created (0.5s)",
      "  + applications.chat: created (5.4s)",
      "",
      "Apply: 13 created (12s).",
      "  chat: http://127.0.0.1:35385",
    ];
    expect(regenerate(shown, real)).toEqual([
      "…",
      "  + applications.chat: created (3.5s)",
      "",
      "Apply: 13 created (12s).",
      "  chat: http://127.0.0.1:42173",
    ]);
    expect(regenerate(shown, real).length).toBe(5);
    expect(matches(regenerate(shown, real), real)).toBe(true);
  });

  it("a failure shows - the doc and + the real line", () => {
    expect(describeDiff(["a", "Apply: 12 created"], ["a", "Apply: 13 created"])).toBe(
      "  a\n- Apply: 12 created\n+ Apply: 13 created",
    );
  });
});

describe("reading a doc's shell blocks", () => {
  const doc = [
    "<!-- doc-test skip: needs a CML workspace -->",
    "```sh",
    "npx deploy plan --target workspace",
    "```",
    "",
    '<!-- doc-test skip "npm test": it is this suite -->',
    "```sh",
    "npm start   # the lab",
    "# a comment",
    "npm test",
    "```",
    "```ts",
    "const x = 1;",
    "```",
    "```console",
    "$ npx deploy destroy manifests/lab.yaml",
    "Destroy them? [y/N] y",
    "$ npx cml-lab app",
    "listening on http://127.0.0.1:8100",
    "^C",
    "```",
    '<!-- doc-test output-of "npm start": its first run -->',
    "```console",
    "…",
    "Apply: 13 created",
    "```",
  ].join("\n");

  it("blocks, skipped blocks and commands with their reasons, typed input, excerpts", () => {
    const blocks = parseDoc("doc.md", doc);
    expect(blocks.map((b) => [b.kind, b.line, b.skip])).toEqual([
      ["sh", 2, "needs a CML workspace"],
      ["sh", 7, undefined],
      ["console", 15, undefined],
      ["excerpt", 23, undefined],
    ]);
    expect(blocks[1]?.commands.map((c) => [c.text, c.skip])).toEqual([
      ["npm start   # the lab", undefined],
      ["npm test", "it is this suite"],
    ]);
    const [destroy, app] = blocks[2]?.commands ?? [];
    expect(destroy?.inputs).toEqual([{ kind: "answer", at: 0, prompt: "Destroy them? [y/N]", text: "y" }]);
    expect(app?.inputs).toEqual([{ kind: "interrupt", at: 1, after: "listening on http://127.0.0.1:8100" }]);
    expect(app?.shown).toMatchObject({ start: 18, end: 20 });
    expect(blocks[3]).toMatchObject({ outputOf: "npm start", excerpt: { lines: ["…", "Apply: 13 created"] } });
    expect(withoutComment("npm start   # the lab")).toBe("npm start");
    expect(withoutComment('npx x "a # b" # c')).toBe('npx x "a # b"');
  });

  it("refuses what would let a block drop out unnoticed", () => {
    const refused = (text: string) => () => parseDoc("doc.md", text);
    expect(refused("```\nnpm start\n```")).toThrow(/doc.md:1: a code block without a language/);
    expect(refused('<!-- doc-test skip "npm tset": typo -->\n```sh\nnpm test\n```')).toThrow(
      /doc.md:1: doc-test skip "npm tset": no command of the block starts so/,
    );
    expect(refused("<!-- doc-test skip -->\n```sh\nnpm test\n```")).toThrow(/needs a reason/);
    expect(refused("<!-- doc-test skipp: x -->\n```sh\nnpm test\n```")).toThrow(/unknown doc-test marker/);
    expect(refused("<!-- doc-test skip: x -->\ntext\n```sh\nnpm test\n```")).toThrow(/right before a block/);
    expect(refused("```console\n…\n```")).toThrow(/output before any "\$ " command.*needs doc-test output-of/);
    expect(refused("```console\n$ npx cml-lab app\n^C\n```")).toThrow(/show what the command prints before \^C/);
    expect(refused("```console\n$ npx cml-lab app\n^C\n```")).toThrow(DocFormatError);
  });
});
