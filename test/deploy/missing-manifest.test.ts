/** `deploy plan nope.yaml` (issue 15, defect 8): a missing manifest is said once, plainly, for every command. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deploy } from "./engine/harness.js";

describe("a manifest that does not exist", () => {
  it.each([["plan"], ["apply"], ["destroy"]])("deploy %s nope.yaml says so once", async (command) => {
    const dir = mkdtempSync(join(tmpdir(), "cml-lab-nope-"));
    const result = await deploy([command, "nope.yaml"], { CML_API_URL: "http://127.0.0.1:9", CML_API_KEY: "k" }, dir);
    expect(result.code).toBe(1);
    expect(result.err).toBe("error: cannot read manifest nope.yaml: no such file\n");
  });
});
