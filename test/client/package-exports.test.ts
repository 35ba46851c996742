import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// Consumers import `cml-lab/client`; the exports map must point at the compiled files `npm run build` writes.
const root = join(import.meta.dirname, "../..");

describe("package exports", () => {
  it("resolves cml-lab/client to the built client", () => {
    const script = "import('cml-lab/client').then(m => console.log(typeof m.createCmlClient, typeof m.unwrap))";
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("function function");
  });
});
