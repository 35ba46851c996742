/**
 * `npm start` checks its prerequisites before it starts anything (issue 15, defect 10): without `python3` on PATH it
 * says what is missing, why, and how to install it, and leaves no platform behind.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localDown } from "../../src/local/daemon.js";

const root = join(import.meta.dirname, "../..");

describe("npm start prerequisites", () => {
  it("refuses clearly when python3 is not on PATH", async () => {
    // A PATH with node and nothing else (the system's bin holds python3 next to node).
    const bin = mkdtempSync(join(tmpdir(), "cml-lab-nopython-"));
    symlinkSync(process.execPath, join(bin, "node"));
    const dataDir = join(bin, "platform");
    const result = await new Promise<{ code: number; stderr: string; stdout: string }>((resolve) => {
      execFile(
        join(bin, "node"),
        [join(root, "bin/cml-lab.js"), "start", "--data-dir", dataDir],
        { cwd: root, env: { PATH: bin, HOME: process.env.HOME ?? "" }, encoding: "utf8" },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toContain("error: npm start needs Python 3 (`python3` on PATH), and none was found");
    expect(result.stderr).toContain("apt-get install python3");
    expect(result.stdout).not.toContain("[1/4]");
    // Had it started a platform anyway, stop it before failing.
    if (existsSync(join(dataDir, "server.json"))) await localDown(dataDir);
    expect(existsSync(join(dataDir, "server.json"))).toBe(false);
  });
});
