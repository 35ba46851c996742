import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../../../src/deploy/main.js";
import { schemaFiles } from "../../../src/deploy/manifest/index.js";
import type { CliIo } from "../../../src/shared/io.js";

function bufferIo(): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    isTTY: false,
    env: {},
    cwd: process.cwd(),
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
  return io;
}

describe("manifest JSON Schema", () => {
  it("the committed schema files match schema.ts (run npm run gen:schema after changing it)", () => {
    for (const [name, text] of Object.entries(schemaFiles())) {
      expect(readFileSync(new URL(`../../../schema/${name}`, import.meta.url), "utf8"), name).toBe(text);
    }
  });

  it("deploy schema prints the root schema as JSON", async () => {
    const io = bufferIo();
    expect(await main(["schema"], io)).toBe(0);
    const printed: unknown = JSON.parse(io.out);
    expect(printed).toMatchObject({ title: "cml-lab deploy manifest", required: ["name", "project"] });
  });
});

describe("docs/manifest.md", () => {
  it("its generated field reference matches schema.ts (run npm run gen:schema after changing it)", async () => {
    const { renderFieldReference, replaceGeneratedBlock } = await import("../../../src/deploy/manifest/docs.js");
    const doc = readFileSync(new URL("../../../docs/manifest.md", import.meta.url), "utf8");
    expect(replaceGeneratedBlock(doc, renderFieldReference())).toBe(doc);
    expect(doc).toContain("### `jobs.<key>`");
  });
});
