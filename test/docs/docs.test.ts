/**
 * The docs are tests (issue 15): every shell block of README.md and docs/lab.md runs, in order, as a user runs it,
 * in a temporary copy of the repository on a fresh local platform; a command that fails, or prints something else
 * than its doc shows, fails its block. Blocks that need a cloud account are marked in the doc and reported as
 * skipped with the doc's reason. The convention is docs/doc-tests.md; `npm run gen:docs-output` rewrites the shown
 * outputs from a real run (this file with CML_LAB_DOCS_OUTPUT=write).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DocBlock } from "./markdown.js";
import { DocRun } from "./run-docs.js";

const root = join(import.meta.dirname, "../..");
const write = process.env.CML_LAB_DOCS_OUTPUT === "write";
const run = new DocRun(root, ["README.md", "docs/lab.md"], { write });

function title(block: DocBlock): string {
  const what =
    block.kind === "excerpt"
      ? `output of \`${block.outputOf}\``
      : block.commands.map((c) => `\`${c.text.split("\n")[0]}\``).join(", ");
  return `${block.file}:${block.line} ${block.lang}: ${what.length > 110 ? `${what.slice(0, 110)}…` : what}`;
}

beforeAll(() => run.start());
afterAll(async () => {
  await run.close();
  console.log(run.summary());
}, 60_000);

describe("the docs, run as a user runs them", () => {
  for (const block of run.blocks) {
    if (block.skip) it.skip(`${title(block)} (skipped: ${block.skip})`, () => {});
    else
      it(title(block), async () => {
        const failures = await run.runBlock(block);
        if (failures.length > 0) throw new Error(failures.join("\n\n"));
      }, 900_000);
  }

  it("leaves nothing of the session running or listening after the docs' npm stop", async () => {
    const left = await run.leftovers();
    if (write) console.log(`rewrote: ${run.writeDocs().join(", ") || "nothing (the docs match)"}`);
    expect(left).toEqual([]);
  });
});
