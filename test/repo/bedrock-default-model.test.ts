/**
 * The Bedrock model a manifest uses by default must still exist: a default past its end of life fails every
 * question on a real workspace with ResourceNotFoundException. The lifecycle table is src/workloads/FACTS.md §B6.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = fileURLToPath(new URL("../..", import.meta.url));
const MANIFESTS = ["manifests/lab.yaml", "manifests/examples/stock-runtime.yaml", "manifests/examples/lab-draft.yaml"];

/** model id → end of life (a date, or "ended"), from the table in FACTS.md §B6. */
function lifecycle(): Map<string, string | undefined> {
  const facts = readFileSync(`${root}src/workloads/FACTS.md`, "utf8");
  const section = facts.slice(facts.indexOf("### §B6"));
  const rows = [...section.matchAll(/^\| `([^`]+)`\s*\|[^|]*\|\s*([^|]*?)\s*\|$/gm)];
  return new Map(
    rows.map(([, id, eol]) => [id ?? "", eol && /\d{4}-\d\d-\d\d/.test(eol) ? eol : eol ? "ended" : undefined]),
  );
}

describe("the default Bedrock model", () => {
  const table = lifecycle();
  it("reads the lifecycle table", () => {
    expect(table.size).toBeGreaterThanOrEqual(4);
    expect(table.get("anthropic.claude-3-5-haiku-20241022-v1:0")).toBe("2026-06-19");
  });

  for (const file of MANIFESTS) {
    it(`${file}: is a model the table knows, not past its end of life, through an inference profile`, () => {
      const manifest = parse(readFileSync(`${root}${file}`, "utf8"));
      const raw = manifest.variables.bedrock_model;
      const id: string = typeof raw === "object" ? raw.default : raw;
      const base = id.replace(/^(us|eu|apac|global)\./, "");
      expect(id, "an inference profile (FACTS.md §B6)").not.toBe(base);
      expect(table.has(base), `${base} is in FACTS.md §B6`).toBe(true);
      const eol = table.get(base);
      if (eol === "ended") throw new Error(`${base} has ended (FACTS.md §B6)`);
      if (eol) expect(new Date(eol).getTime(), `${base} ends on ${eol}`).toBeGreaterThan(Date.now());
    });
  }
});
