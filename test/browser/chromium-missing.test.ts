/**
 * `npm test` on a machine without chromium (issue 15, defect 3): the browser suite is skipped loudly outside CI and
 * fails under CI=true. Runs vitest on test/browser/chat-ui.test.ts with CML_LAB_CHROMIUM pointing at a missing file.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const VITEST = join(root, "node_modules/vitest/vitest.mjs");

function runBrowserSuite(ci: string | undefined): Promise<{ code: number; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CML_LAB_CHROMIUM: join(root, "no-such-chromium") };
  delete env.CI;
  delete env.FORCE_COLOR;
  env.NO_COLOR = "1";
  delete env.VITEST;
  delete env.VITEST_WORKER_ID;
  delete env.VITEST_POOL_ID;
  if (ci !== undefined) env.CI = ci;
  // --reporter=default: under CI the config adds a JSON reporter whose file belongs to the outer run.
  const args = [VITEST, "run", "test/browser/chat-ui.test.ts", "--reporter=default", "--typecheck.enabled=false"];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: root, env, encoding: "utf8" }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

describe("the browser suite without a browser", () => {
  it("is skipped outside CI, saying what and how to enable it", async () => {
    const { code, output } = await runBrowserSuite(undefined);
    expect(code, output).toBe(0);
    expect(output).toContain("SKIPPED test/browser/chat-ui.test.ts");
    expect(output).toContain("apt-get install chromium");
    expect(output).toMatch(/Tests +\d+ skipped/);
  });

  it("fails under CI=true", async () => {
    const { code, output } = await runBrowserSuite("true");
    expect(code, output).toBe(1);
    expect(output).toContain("the browser test must run in CI");
    expect(output).not.toContain("SKIPPED");
  });
});
