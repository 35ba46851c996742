import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ESM script without type declarations; its exports are checked by this test.
import { generate, paths } from "../../scripts/gen-api.mjs";

describe("generated API artefacts", () => {
  it("match what `npm run gen:api` produces from openapi/swagger.json (no drift)", async () => {
    const { openapiText, schemaText } = await generate();
    expect(await readFile(paths.openapi, "utf8")).toBe(openapiText);
    expect(await readFile(paths.schema, "utf8")).toBe(schemaText);
  }, 60_000);

  it("the vendored spec is the byte-for-byte upstream copy named in openapi/SOURCE.txt", async () => {
    const { createHash } = await import("node:crypto");
    const sha = createHash("sha256")
      .update(await readFile(paths.swagger))
      .digest("hex");
    expect(await readFile(new URL("../../openapi/SOURCE.txt", import.meta.url), "utf8")).toContain(sha);
  });
});
