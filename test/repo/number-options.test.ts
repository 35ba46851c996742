/**
 * Every numeric option of both CLIs, found in their documented --help (docs/cli.md, which cli-docs-drift.test.ts
 * keeps equal to the real --help), refuses a value that is not a number, one below its range and one far above
 * it, with one line naming the flag and exit 1. Before, `--lock-timeout abc` parsed to NaN, a deadline that is
 * never reached: an apply waiting for another one's lock waited forever. A numeric option added without a range
 * fails here.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { main as cmlLabMain } from "../../src/cli/main.js";
import { main as deployMain } from "../../src/deploy/main.js";
import { bufferIo } from "../helpers/buffer-io.js";

const ROOT = join(import.meta.dirname, "..", "..");

interface NumberFlag {
  bin: "deploy" | "cml-lab";
  /** The command words and placeholders for its required positionals. */
  argv: string[];
  flag: string;
}

function documentedNumberFlags(): NumberFlag[] {
  const text = readFileSync(join(ROOT, "docs", "cli.md"), "utf8");
  const flags: NumberFlag[] = [];
  for (const section of text.split(/^## /m).slice(1)) {
    const usage = /```text\n(\S+) (.*)\n/.exec(section);
    if (!usage) continue;
    const bin = usage[1] as NumberFlag["bin"];
    const words = (usage[2] ?? "").split(" ").filter((w) => !w.startsWith("["));
    const argv = words.map((w) => (w.startsWith("<") ? "placeholder" : w));
    // An option line, possibly wrapped: the type sits at the end of it or of the next line.
    const lines = section.split("\n");
    for (const [i, line] of lines.entries()) {
      const option = /^\s+(?:-(\w), )?(--?[\w-]+)\s/.exec(line);
      if (!option) continue;
      const typed = /\[number\]/.test(line) || (/^\s+\[number\]/.test(lines[i + 1] ?? "") && !/\[\w+\]/.test(line));
      if (typed) flags.push({ bin, argv, flag: (option[2] ?? "").replace(/^-(\w)$/, "--$1") });
    }
  }
  return flags;
}

describe("numeric options", () => {
  const flags = documentedNumberFlags();

  it("are all found in the documented --help (the parse below is not vacuous)", () => {
    const names = new Set(flags.map((f) => `${f.bin} ${f.argv[0]} ${f.flag}`));
    for (const expected of [
      "deploy apply --parallelism",
      "deploy apply --lock-timeout",
      "deploy apply --wait-timeout",
      "deploy destroy --lock-timeout",
      "deploy run --timeout",
      "deploy local --port",
      "cml-lab query --k",
      "cml-lab ingest --overlap",
      "cml-lab chroma --port",
    ])
      expect(names, expected).toContain(expected);
    expect(flags.length).toBeGreaterThanOrEqual(25);
  });

  it("refuse NaN, below range and far above range, in one line naming the flag", async () => {
    const failures: string[] = [];
    let cases = 0;
    for (const { bin, argv, flag } of flags)
      for (const value of ["abc", "-1", "1e12"]) {
        cases++;
        const { io, out } = bufferIo({ HOME: "/nonexistent" }, "/nonexistent-cwd");
        const main = bin === "deploy" ? deployMain : cmlLabMain;
        const code = await main([...argv, flag, value], io);
        const expected = new RegExp(
          `^error: ${flag} must be a (whole )?number (of at least|from) [^\\n]*, got \\S+\\n$`,
        );
        if (code !== 1 || !expected.test(out.stderr) || out.stdout !== "")
          failures.push(
            `${bin} ${argv.join(" ")} ${flag} ${value}: exit ${code}, ${JSON.stringify(out.stderr.slice(0, 160))}`,
          );
      }
    console.log(`numeric options: ${flags.length} flags, ${cases} cases, ${failures.length} failures`);
    expect(failures).toEqual([]);
  });

  it("a bad --lock-timeout is refused through the real bin before anything is read", async () => {
    const run = await promisify(execFile)(
      process.execPath,
      [join(ROOT, "bin", "deploy.js"), "apply", "manifests/lab.yaml", "--lock-timeout", "abc"],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent" } },
    ).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("error: --lock-timeout must be a number from 0 to 86400, got NaN\n");
  });
});
