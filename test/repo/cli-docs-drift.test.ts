// docs/cli.md is generated from the commands' --help (npm run gen:cli-docs); this fails when a command's help
// changed and the reference was not regenerated.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main as cmlLabMain } from "../../src/cli/main.js";
import { main as deployMain } from "../../src/deploy/main.js";
import type { CliIo } from "../../src/shared/io.js";

const mains = { deploy: deployMain, "cml-lab": cmlLabMain } as const;

async function help(bin: keyof typeof mains, words: string[]): Promise<string> {
  let out = "";
  const io: CliIo = {
    isTTY: false,
    env: { NO_COLOR: "1" },
    cwd: process.cwd(),
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      out += t;
    },
  };
  await mains[bin]([...words, "--help"], io);
  return out.trimEnd();
}

describe("docs/cli.md", () => {
  it("matches every command's --help (regenerate with npm run gen:cli-docs)", async () => {
    const doc = readFileSync(new URL("../../docs/cli.md", import.meta.url), "utf8");
    const sections = [...doc.matchAll(/^## `([^`]+)`\n\n```text\n([\s\S]*?)\n```$/gm)];
    expect(sections.length).toBeGreaterThan(20);
    for (const [, title = "", body] of sections) {
      const [bin, ...words] = title.split(" ") as [keyof typeof mains, ...string[]];
      expect(await help(bin, words), title).toBe(body);
    }
  });
});
