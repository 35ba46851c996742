/**
 * Golden files for what `deploy validate` prints, in all three formats, over the manifests in
 * test/deploy/fixtures/manifests/. Regenerate with `UPDATE=1 npx vitest run test/deploy/manifest/golden.test.ts`
 * and review the diff.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CANARY, FIXTURES, runValidate } from "./helpers.js";

const GOLDEN = path.join(FIXTURES, "golden");
const FORMATS = ["text", "github", "json"] as const;

function normalise(s: string): string {
  return s.replaceAll(FIXTURES.replace(/\/$/, ""), "[FIXTURES]");
}

// Broken YAML is named *.bad-yaml so the repository's YAML linter leaves it alone.
const cases = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".yaml") || f.endsWith(".bad-yaml"))
  .sort();

describe("deploy validate golden output", () => {
  it("has fixtures", () => {
    expect(cases.length).toBeGreaterThan(10);
  });

  for (const file of cases) {
    const name = file.replace(/\.(bad-)?yaml$/, "");
    for (const format of FORMATS) {
      it(`${name} (${format})`, async () => {
        const { code, out, err } = await runValidate([file, "--format", format]);
        if (format === "text") {
          // Diagnostics go to stderr; stdout holds at most the "is valid" summary.
          expect(out, "only the summary on stdout").toMatch(/^(.* is valid \(.*\)\n( {2}skipped .*\n)*)?$/);
          if (code === 1) expect(err).toMatch(/error: /);
        } else {
          expect(err, "nothing on stderr").toBe("");
        }
        expect(out + err).not.toContain(CANARY);
        expect(out + err).not.toMatch(/internal error|\n\s+at /);
        // The golden text is what a terminal shows: stderr's diagnostics, then stdout's summary.
        const actual = normalise(`exit ${code}\n${err}${out}`);
        const golden = path.join(GOLDEN, `${name}.${format}.golden`);
        if (process.env.UPDATE) {
          mkdirSync(GOLDEN, { recursive: true });
          writeFileSync(golden, actual);
        }
        expect(existsSync(golden), `${golden} is missing: run with UPDATE=1 and review it`).toBe(true);
        expect(actual).toBe(readFileSync(golden, "utf8"));
        if (format === "json") expect(Array.isArray(JSON.parse(out))).toBe(true);
        if (format === "github" && code === 1) expect(out).toMatch(/^::error /m);
      });
    }
  }
});
