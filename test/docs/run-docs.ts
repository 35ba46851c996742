/**
 * The docs as tests: every shell block of the given docs, in order, in one user session (session.ts), each
 * command's output compared with what its doc shows (transcript.ts). One module for both uses: the suite
 * (test/docs/docs.test.ts) reports what differs; `npm run gen:docs-output` runs the same session with `write` and
 * rewrites the shown outputs from the real run instead.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { leftovers } from "../../scripts/leftovers.mjs";
import { type DocBlock, type DocCommand, parseDoc, type Shown } from "./markdown.js";
import { DocSession, type Ran } from "./session.js";
import { describeDiff, matches, regenerate } from "./transcript.js";

interface Rewrite {
  file: string;
  shown: Shown;
  lines: string[];
}

export interface DocRunOptions {
  /** Rewrite what the docs show from the real outputs instead of failing on a difference. */
  write: boolean;
}

export class DocRun {
  readonly blocks: DocBlock[];
  private readonly texts = new Map<string, string>();
  private session: DocSession | undefined;
  private readonly firstOutputs = new Map<string, string[]>();
  private readonly rewrites: Rewrite[] = [];
  private readonly skipped: string[] = [];
  private readonly ports = new Set<number>();
  private readonly timings: Array<{ command: string; ms: number }> = [];
  private commandsRun = 0;
  private inTerminal = 0;
  private excerpts = 0;
  private blocksRun = 0;
  private started = 0;

  constructor(
    readonly source: string,
    readonly files: string[],
    readonly options: DocRunOptions,
  ) {
    this.blocks = files.flatMap((file) => {
      const text = readFileSync(join(source, file), "utf8");
      this.texts.set(file, text);
      return parseDoc(file, text);
    });
    for (const block of this.blocks)
      if (block.skip) this.skipped.push(`${block.file}:${block.line} (${block.lang} block): ${block.skip}`);
  }

  start(): void {
    this.started = Date.now();
    this.session = DocSession.create(this.source);
  }

  /** Runs one block; returns what failed (empty when the block does what its doc says). */
  async runBlock(block: DocBlock): Promise<string[]> {
    const session = this.session;
    if (!session) throw new Error("bug: runBlock before start");
    this.blocksRun++;
    if (block.kind === "excerpt") return this.checkExcerpt(block);
    const failures: string[] = [];
    for (const command of block.commands) {
      if (command.skip) {
        this.skipped.push(
          `${block.file}:${command.line} \`${oneLine(withoutComment(command.text))}\`: ${command.skip}`,
        );
        continue;
      }
      await session.settle();
      const terminal = block.terminal !== undefined || command.inputs.length > 0;
      const ran = terminal
        ? await session.runInTerminal(command.text, command.inputs)
        : await session.run(command.text);
      this.commandsRun++;
      if (ran.terminal) this.inTerminal++;
      this.record(command, ran);
      this.timings.push({
        command: `${block.file}:${command.line} ${oneLine(withoutComment(command.text))}`,
        ms: ran.ms,
      });
      const failure = this.check(block, command, ran);
      if (failure) failures.push(failure);
    }
    return failures;
  }

  private record(command: DocCommand, ran: Ran): void {
    const key = withoutComment(command.text);
    if (!this.firstOutputs.has(key)) this.firstOutputs.set(key, ran.lines);
    for (const m of ran.lines.join("\n").matchAll(/127\.0\.0\.1:(\d+)/g)) this.ports.add(Number(m[1]));
  }

  private check(block: DocBlock, command: DocCommand, ran: Ran): string | undefined {
    const where = `${block.file}:${command.line}: \`${command.text}\``;
    const interrupted = command.inputs.some((i) => i.kind === "interrupt");
    if (ran.code !== 0 && !(interrupted && ran.code === 130)) {
      const tail = ran.lines.slice(-30).join("\n");
      return `${where} failed (exit ${ran.code}, ${ran.terminal ? "in a terminal" : "through a pipe"}):\n${tail}`;
    }
    if (!command.shown) return undefined;
    return this.compare(where, block.file, command.shown, ran.lines);
  }

  private checkExcerpt(block: DocBlock): string[] {
    this.excerpts++;
    const of = block.outputOf as string;
    const real = this.firstOutputs.get(withoutComment(of));
    if (!real) return [`${block.file}:${block.line}: doc-test output-of "${of}": that command has not run before it`];
    const failure = this.compare(
      `${block.file}:${block.line}: the excerpt of \`${of}\`'s output`,
      block.file,
      block.excerpt as Shown,
      real,
    );
    return failure ? [failure] : [];
  }

  private compare(where: string, file: string, shown: Shown, real: string[]): string | undefined {
    if (matches(shown.lines, real)) return undefined;
    if (this.options.write) {
      this.rewrites.push({ file, shown, lines: regenerate(shown.lines, real) });
      return undefined;
    }
    return [
      `${where}: the output differs from what the doc shows (- doc, + real; values that vary are compared normalised):`,
      describeDiff(shown.lines, real),
      "To take the real outputs into the docs: npm run gen:docs-output (then review the diff).",
    ].join("\n");
  }

  /** With `write`: the docs rewritten with the real outputs; returns the files changed. */
  writeDocs(): string[] {
    const changed: string[] = [];
    for (const file of this.files) {
      const mine = this.rewrites.filter((r) => r.file === file).sort((a, b) => b.shown.start - a.shown.start);
      if (mine.length === 0) continue;
      const lines = (this.texts.get(file) as string).split("\n");
      for (const rewrite of mine)
        lines.splice(rewrite.shown.start, rewrite.shown.end - rewrite.shown.start, ...rewrite.lines);
      writeFileSync(join(this.source, file), lines.join("\n"));
      changed.push(`${file} (${mine.length} output${mine.length === 1 ? "" : "s"})`);
    }
    return changed;
  }

  /** What of the session still runs or listens (after the docs' own `npm stop`, nothing should). */
  async leftovers(): Promise<string[]> {
    return this.session ? leftovers(this.session.base, [...this.ports]) : [];
  }

  async close(): Promise<void> {
    await this.session?.close();
    this.session = undefined;
  }

  summary(): string {
    const seconds = Math.round((Date.now() - this.started) / 1000);
    const runnable = this.blocks.filter((b) => !b.skip).length;
    return [
      `docs as tests (${this.files.join(", ")}): ${this.blocksRun} of ${runnable} runnable blocks ran in ${seconds} s: ` +
        `${this.commandsRun} commands (${this.inTerminal} in a terminal), ${this.excerpts} output excerpts checked`,
      `slowest: ${[...this.timings]
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 4)
        .map((t) => `${t.command} ${(t.ms / 1000).toFixed(1)} s`)
        .join("; ")}`,
      `skipped: ${this.blocks.length - runnable} blocks and ${this.skipped.length - (this.blocks.length - runnable)} commands`,
      ...this.skipped.map((s) => `  ${s}`),
    ].join("\n");
  }
}

/** A command without its trailing `# comment` (outside quotes), as output-of names it. */
export function withoutComment(command: string): string {
  let quote = "";
  for (let k = 0; k < command.length; k++) {
    const c = command[k] as string;
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (k === 0 || /\s/.test(command[k - 1] as string))) return command.slice(0, k).trimEnd();
  }
  return command.trimEnd();
}

function oneLine(command: string): string {
  const [first, ...rest] = command.split("\n");
  return rest.length > 0 ? `${first} …` : (first as string);
}
