/**
 * A newcomer's npm is quiet (issue 15, defect 4): no `npm warn Unknown project config` on every npm call, and no
 * dependency install script runs, so onnxruntime-node's postinstall never fetches CUDA libraries from NuGet (its CPU
 * binaries ship in the package). npm's own `allowScripts` (package.json) records the denial.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const run = promisify(execFile);

async function npm(...args: string[]) {
  // Only the project's own config: a developer's ~/.npmrc must not decide this test.
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_userconfig: "/dev/null" };
  for (const key of Object.keys(env))
    if (key.startsWith("npm_config_") && key !== "npm_config_userconfig") delete env[key];
  return run("npm", args, { cwd: root, env, encoding: "utf8" });
}

describe("npm in this repository", () => {
  it("prints no warning on an ordinary call", async () => {
    const { stderr } = await npm("config", "get", "registry");
    expect(stderr).toBe("");
  });

  it("runs no dependency install script: each one is reviewed and denied", async () => {
    const { stdout } = await npm("install-scripts", "ls");
    expect(stdout).toContain("No packages with unreviewed install scripts.");
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.allowScripts["onnxruntime-node"]).toBe(false);
  });
});
