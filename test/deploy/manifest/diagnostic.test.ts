import { describe, expect, it } from "vitest";
import { type Diagnostic, formatDiagnostics } from "../../../src/deploy/manifest/index.js";
import { didYouMean, editDistance } from "../../../src/deploy/manifest/suggest.js";

const located: Diagnostic = {
  severity: "error",
  message: "50% done\nsecond line",
  location: { file: "dir,with:odd/m.yaml", line: 3, col: 5, endLine: 3, endCol: 9 },
  path: "jobs.a",
  hint: "did you mean x?",
  source: "    key: value",
};

describe("formatDiagnostics", () => {
  it("escapes GitHub workflow command data and properties", () => {
    expect(formatDiagnostics([located], "github", { color: false })).toBe(
      "::error file=dir%2Cwith%3Aodd/m.yaml,line=3,col=5,endLine=3,endColumn=9,title=jobs.a::50%25 done%0Asecond line (did you mean x?)\n",
    );
  });

  it("prints the line with a caret under the span, and a summary", () => {
    expect(formatDiagnostics([located], "text", { color: false })).toBe(
      [
        "dir,with:odd/m.yaml:3:5: error: 50% done\nsecond line",
        " 3 |     key: value",
        "   |     ^^^^",
        "  hint: did you mean x?",
        "1 error, 0 warnings",
        "",
      ].join("\n"),
    );
  });

  it("sorts by file and position, puts unlocated problems first, and leaves the source line out of JSON", () => {
    const later: Diagnostic = { ...located, message: "later", location: { file: "a.yaml", line: 9, col: 1 } };
    const earlier: Diagnostic = { ...located, message: "earlier", location: { file: "a.yaml", line: 2, col: 1 } };
    const flag: Diagnostic = { severity: "warning", message: "from a flag" };
    const json: unknown = JSON.parse(formatDiagnostics([later, earlier, flag], "json", { color: false }));
    expect(json).toEqual([
      { severity: "warning", message: "from a flag" },
      {
        severity: "error",
        message: "earlier",
        location: { file: "a.yaml", line: 2, col: 1 },
        path: "jobs.a",
        hint: "did you mean x?",
      },
      {
        severity: "error",
        message: "later",
        location: { file: "a.yaml", line: 9, col: 1 },
        path: "jobs.a",
        hint: "did you mean x?",
      },
    ]);
  });

  it("prints nothing for no diagnostics in text and GitHub formats, and [] in JSON", () => {
    expect(formatDiagnostics([], "text", { color: false })).toBe("");
    expect(formatDiagnostics([], "github", { color: false })).toBe("");
    expect(formatDiagnostics([], "json", { color: false })).toBe("[]\n");
  });
});

describe("did you mean", () => {
  it("counts a transposition as one edit and suggests only plausible typos", () => {
    expect(editDistance("scirpt", "script")).toBe(1);
    expect(didYouMean("scirpt", ["schedule", "script", "after"])).toBe('did you mean "script"?');
    expect(didYouMean("Replica", ["replicas"])).toBe('did you mean "replicas"?');
    expect(didYouMean("frobnicate", ["name", "file", "function"])).toBeUndefined();
  });
});
