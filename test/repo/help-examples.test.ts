// Every command of both CLIs answers --help with at least one example (issue 15, defect 7). The commands are
// discovered from the help text itself (its "Commands:" section), so a new command without an example fails here.
import { describe, expect, it } from "vitest";
import { main as cmlLabMain } from "../../src/cli/main.js";
import { main as deployMain } from "../../src/deploy/main.js";
import type { CliIo } from "../../src/shared/io.js";

type Main = (argv: readonly string[], io: CliIo) => Promise<number>;

async function help(main: Main, words: string[]): Promise<{ code: number; out: string }> {
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
  const code = await main([...words, "--help"], io);
  return { code, out };
}

/** The subcommand words listed under "Commands:" in a help text, e.g. "deploy local up" → "up". */
function subcommands(text: string, bin: string, words: string[]): string[] {
  const section = text.split(/^Commands:$/m)[1]?.split(/^\S.*:$/m)[0] ?? "";
  const prefix = [bin, ...words].join(" ");
  const found: string[] = [];
  for (const line of section.split("\n")) {
    const rest = line.trim().startsWith(`${prefix} `) ? line.trim().slice(prefix.length + 1) : "";
    const word = rest.split(/\s+/)[0];
    if (word && !/^[<[]/.test(word)) found.push(word);
  }
  return found;
}

async function walk(main: Main, bin: string, words: string[], seen: Map<string, string>): Promise<void> {
  const { code, out } = await help(main, words);
  expect(code, `${bin} ${words.join(" ")} --help`).toBe(0);
  const subs = subcommands(out, bin, words);
  // A group (deploy, cml-lab) lists commands; a leaf command must show how it is used.
  if (words.length > 0 || subs.length === 0) seen.set([bin, ...words].join(" "), out);
  for (const sub of subs) await walk(main, bin, [...words, sub], seen);
}

describe("--help", () => {
  it("every command of deploy and cml-lab shows an Examples section", async () => {
    const seen = new Map<string, string>();
    await walk(deployMain, "deploy", [], seen);
    await walk(cmlLabMain, "cml-lab", [], seen);
    console.log(`checked --help of ${seen.size} commands`);
    // The walk must have found the commands the issue names, or it checked nothing.
    for (const name of [
      "deploy apply",
      "deploy destroy",
      "deploy run",
      "deploy logs",
      "deploy schema",
      "deploy local up",
      "deploy local down",
      "deploy local status",
      "deploy local logs",
      "cml-lab ingest scrape",
      "cml-lab ingest index",
      "cml-lab ingest run",
      "cml-lab query",
      "cml-lab app",
      "cml-lab eval",
      "cml-lab chroma serve",
      "cml-lab docs-site",
      "cml-lab stop",
    ]) {
      expect([...seen.keys()]).toContain(name);
    }
    const without = [...seen].filter(([, text]) => !/^Examples:\n {2}\S/m.test(text)).map(([name]) => name);
    expect(without).toEqual([]);
  });

  it("query --help says how the Chroma store is reached", async () => {
    const { out } = await help(cmlLabMain, ["query"]);
    expect(out).toContain("CML_LAB_CHROMA_URL");
    expect(out).toMatch(/running lab's Chroma/);
  });
});
