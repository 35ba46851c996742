/**
 * The shell blocks of a Markdown doc, as the docs-as-tests suite runs them (the convention is docs/doc-tests.md):
 *
 * - ```sh (bash, shell): every line is a command (a trailing `\` continues it; `#` lines are comments). Each must
 *   succeed; what it prints is not shown, so not compared.
 * - ```console: a terminal transcript. `$ ` starts a command; the lines up to the next `$ ` are what it prints,
 *   compared with the real output (transcript.ts). A shown `[y/N] y` is an answer typed at that prompt and a
 *   shown `^C` is Ctrl-C pressed there; such a command runs in a real terminal.
 * - Every other fenced block (ts, yaml, text, …) is not a shell block. A fence without a language is refused, so
 *   a block cannot drop out of the suite unnoticed.
 *
 * An HTML comment right before a block (blank lines and other markers may come between) says more:
 *   <!-- doc-test skip: REASON -->                       the block is not run (a cloud account, say), with why
 *   <!-- doc-test skip "PREFIX" ["PREFIX"…]: REASON -->   the block's commands that start so are not run
 *   <!-- doc-test terminal: REASON -->                    the block's commands run in a pseudo-terminal
 *   <!-- doc-test output-of "COMMAND": NOTE -->           a console block with no `$` line: an excerpt of what
 *                                                         COMMAND printed the first time it ran in this session
 */

import { isEllipsis } from "./transcript.js";

export interface Shown {
  lines: string[];
  /** 0-based line indices in the file: the shown output is lines [start, end). */
  start: number;
  end: number;
}

export type Input =
  | { kind: "answer"; at: number; prompt: string; text: string }
  /** Ctrl-C, pressed once the screen shows `after` (the last line the doc shows before it). */
  | { kind: "interrupt"; at: number; after: string };

export interface DocCommand {
  text: string;
  /** 1-based line of the command in the doc. */
  line: number;
  /** console blocks: what the doc shows it printing. */
  shown?: Shown;
  /** What the doc shows being typed while it runs (indices into shown.lines). */
  inputs: Input[];
  skip?: string;
}

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  kind: "sh" | "console" | "excerpt";
  commands: DocCommand[];
  skip?: string;
  terminal?: string;
  /** excerpt blocks: the command whose first output they show, and the shown lines. */
  outputOf?: string;
  excerpt?: Shown;
}

export class DocFormatError extends Error {
  override readonly name = "DocFormatError";
}

const SHELL = new Set(["sh", "bash", "shell"]);
const MARKER = /^<!--\s*doc-test\s+(skip|terminal|output-of)\b(.*?)-->\s*$/;
const PROMPT = /^(.*\[(?:y\/N|Y\/n)\]) (\S.*)$/;

interface Marker {
  kind: "skip" | "terminal" | "output-of";
  quoted: string[];
  reason: string;
  line: number;
}

function parseMarker(file: string, index: number, kind: Marker["kind"], rest: string): Marker {
  const where = `${file}:${index + 1}`;
  const quoted: string[] = [];
  let text = rest.trim();
  for (let m = /^"([^"]+)"\s*/.exec(text); m; m = /^"([^"]+)"\s*/.exec(text)) {
    quoted.push(m[1] as string);
    text = text.slice(m[0].length);
  }
  const reason = text.replace(/^:\s*/, "").trim();
  if (text && !text.startsWith(":")) throw new DocFormatError(`${where}: doc-test ${kind}: write the reason after ":"`);
  if (kind === "skip" && !reason) throw new DocFormatError(`${where}: doc-test skip needs a reason ("skip: why")`);
  if (kind === "output-of" && quoted.length !== 1)
    throw new DocFormatError(`${where}: doc-test output-of names one command in quotes`);
  if (kind === "terminal" && quoted.length > 0)
    throw new DocFormatError(`${where}: doc-test terminal takes no command (it applies to the whole block)`);
  return { kind, quoted, reason, line: index + 1 };
}

/** Commands of a sh block: one a line, `\` continuing, comments and blank lines left out. */
function shCommands(lines: string[], first: number): DocCommand[] {
  const commands: DocCommand[] = [];
  for (let k = 0; k < lines.length; k++) {
    const start = k;
    let text = (lines[k] as string).trim();
    while (text.endsWith("\\") && k + 1 < lines.length) text = `${text}\n${(lines[++k] as string).trim()}`;
    if (text && !text.startsWith("#")) commands.push({ text, line: first + start + 1, inputs: [] });
  }
  return commands;
}

/** Commands of a console block with the output shown after each, and what is typed into it. */
function consoleCommands(file: string, lines: string[], first: number): DocCommand[] {
  const commands: DocCommand[] = [];
  let current: DocCommand | undefined;
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k] as string;
    if (line.startsWith("$ ")) {
      const start = k;
      let text = line.slice(2).trim();
      while (text.endsWith("\\") && k + 1 < lines.length) text = `${text}\n${(lines[++k] as string).trim()}`;
      current = { text, line: first + start + 1, inputs: [], shown: { lines: [], start: first + k + 1, end: 0 } };
      commands.push(current);
      continue;
    }
    if (!current?.shown)
      throw new DocFormatError(
        `${file}:${first + k + 1}: output before any "$ " command in a console block (an excerpt of an earlier command's output needs doc-test output-of)`,
      );
    current.shown.lines.push(line);
  }
  for (const command of commands) {
    const shown = command.shown as Shown;
    shown.end = shown.start + shown.lines.length;
    shown.lines.forEach((line, at) => {
      const prompt = PROMPT.exec(line);
      if (prompt) command.inputs.push({ kind: "answer", at, prompt: prompt[1] as string, text: prompt[2] as string });
      else if (line.startsWith("^C")) {
        const after = shown.lines.slice(0, at).findLast((l) => l.trim() && !isEllipsis(l));
        if (after === undefined)
          throw new DocFormatError(
            `${file}:${shown.start + at + 1}: show what the command prints before ^C (the suite presses Ctrl-C once it is on the screen)`,
          );
        command.inputs.push({ kind: "interrupt", at, after });
      }
    });
  }
  return commands;
}

export function parseDoc(file: string, text: string): DocBlock[] {
  const lines = text.split("\n");
  const blocks: DocBlock[] = [];
  let markers: Marker[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const marker = MARKER.exec(line.trim());
    if (marker) {
      markers.push(parseMarker(file, i, marker[1] as Marker["kind"], marker[2] as string));
      continue;
    }
    if (/^\s*<!--\s*doc-test/.test(line))
      throw new DocFormatError(`${file}:${i + 1}: unknown doc-test marker (skip, terminal or output-of)`);
    const fence = /^(\s*)(```+)(.*)$/.exec(line);
    if (!fence) {
      if (line.trim() && markers.length > 0)
        throw new DocFormatError(`${file}:${markers[0]?.line}: a doc-test marker must come right before a block`);
      continue;
    }
    const lang = (fence[3] as string).trim().split(/\s+/)[0] ?? "";
    const close = lines.findIndex((l, k) => k > i && l.trim() === fence[2]);
    if (close < 0) throw new DocFormatError(`${file}:${i + 1}: unclosed code block`);
    if (!lang)
      throw new DocFormatError(
        `${file}:${i + 1}: a code block without a language: use console (commands and their output), sh (commands) or text (neither)`,
      );
    const body = lines.slice(i + 1, close);
    const block = shellBlock(file, i, lang, body, markers);
    if (block) blocks.push(block);
    else if (markers.length > 0)
      throw new DocFormatError(`${file}:${markers[0]?.line}: doc-test markers apply only to sh and console blocks`);
    markers = [];
    i = close;
  }
  if (markers.length > 0)
    throw new DocFormatError(`${file}:${markers[0]?.line}: a doc-test marker with no block after it`);
  return blocks;
}

function shellBlock(file: string, fenceIndex: number, lang: string, body: string[], markers: Marker[]) {
  if (!SHELL.has(lang) && lang !== "console") return undefined;
  const first = fenceIndex + 1;
  const where = `${file}:${fenceIndex + 1}`;
  const outputOf = markers.find((m) => m.kind === "output-of");
  const block: DocBlock = {
    file,
    line: fenceIndex + 1,
    lang,
    kind: lang === "console" ? "console" : "sh",
    commands: [],
  };
  if (outputOf) {
    if (lang !== "console" || body.some((l) => l.startsWith("$ ")))
      throw new DocFormatError(`${where}: an output-of block is a console block without "$ " lines`);
    block.kind = "excerpt";
    block.outputOf = outputOf.quoted[0] as string;
    block.excerpt = { lines: body, start: first, end: first + body.length };
    return block;
  }
  block.commands = lang === "console" ? consoleCommands(file, body, first) : shCommands(body, first);
  if (block.commands.length === 0)
    throw new DocFormatError(`${where}: a ${lang} block without a command (an excerpt needs doc-test output-of)`);
  for (const marker of markers) {
    if (marker.kind === "terminal") block.terminal = marker.reason || "marked terminal";
    else if (marker.kind === "skip" && marker.quoted.length === 0) block.skip = marker.reason;
    else if (marker.kind === "skip")
      for (const prefix of marker.quoted) {
        const hit = block.commands.filter((c) => c.text.startsWith(prefix));
        if (hit.length === 0)
          throw new DocFormatError(
            `${file}:${marker.line}: doc-test skip "${prefix}": no command of the block starts so`,
          );
        for (const command of hit) command.skip = marker.reason;
      }
  }
  for (const command of block.commands)
    if (command.inputs.length > 0 && block.kind !== "console")
      throw new DocFormatError(`${file}:${command.line}: typed input can only be shown in a console block`);
  return block;
}
