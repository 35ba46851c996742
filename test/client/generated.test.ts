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

  it("openapi/NOTICE says what swagger.json is, where it came from and that Apache-2.0 does not cover it; npm packs it", async () => {
    const { createHash } = await import("node:crypto");
    const { spawnSync } = await import("node:child_process");
    const notice = await readFile(new URL("../../openapi/NOTICE", import.meta.url), "utf8");
    const source = await readFile(new URL("../../openapi/SOURCE.txt", import.meta.url), "utf8");
    const sha = createHash("sha256")
      .update(await readFile(paths.swagger))
      .digest("hex");
    expect(notice).toContain(sha);
    const repo = /repository: (\S+)/.exec(source)?.[1] ?? "no repository in SOURCE.txt";
    expect(notice).toContain(repo);
    expect(notice).toContain("GPL-3.0");
    expect(notice).toMatch(/Apache-2\.0, as declared in package.json\) does NOT cover/);
    const packed = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: new URL("../..", import.meta.url),
      encoding: "utf8",
    });
    const files = (JSON.parse(packed.stdout) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path) ?? [];
    // The package ships the spec converted to OpenAPI 3 (openapi.json, derived from swagger.json): the NOTICE goes with it.
    expect(files).toContain("openapi/openapi.json");
    expect(files).toContain("openapi/NOTICE");
  }, 60_000);
});
