/**
 * Heading-aware chunking of extracted Markdown. Sections first (a passage never straddles two headings), then a
 * token budget with overlap. Code fences are never cut open (a long fence is split into several closed fences),
 * and tables are split by rows with the header repeated, so every chunk is valid Markdown on its own.
 */

import { unescapeMarkdown } from "../rag/markdown-text.js";

// v3: headings keep their underscores (v2 dropped them, so `add_argument` was indexed as "addargument").
// v4: the extractors no longer escape an underscore inside a word (`pg\_dump` is written `pg_dump`), and a full
// stop inside a token (`os.path`, a link's `index.html`) no longer ends a sentence, where chunks are cut.
export const CHUNKER_VERSION = "md-sections-v4";

export interface ChunkOptions {
  /** Target size of a chunk in tokens (estimated as characters / 4). */
  maxTokens?: number;
  /** Share of the budget repeated from the previous chunk of the same section. */
  overlap?: number;
}

export interface Chunk {
  /** 0-based position in the page. */
  index: number;
  /** `page title › section › subsection`. */
  section: string;
  /** Heading anchor of the innermost section that has one, without `#`. */
  anchor: string | undefined;
  text: string;
}

interface Section {
  path: string[];
  anchor: string | undefined;
  lines: string[];
}

type Block = { kind: "text" | "code" | "table"; lines: string[] };

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

const HEADING = /^(#{1,6})\s+(.*?)(?:\s+\{#([^}\s]+)\})?\s*$/;
const FENCE = /^\s*(```|~~~)/;

/**
 * A heading as plain text for the context header: emphasis and code marks and backslash escapes go, underscores
 * stay (they belong to identifiers such as `add_argument` or `__main__`; turndown writes emphasis with `*`).
 */
function headingText(markdown: string): string {
  return unescapeMarkdown(markdown).replace(/[*`]/g, "");
}

function splitSections(title: string, markdown: string): Section[] {
  const sections: Section[] = [];
  const stack: { level: number; text: string; anchor: string | undefined }[] = [];
  let current: Section = { path: [], anchor: undefined, lines: [] };
  let fence: string | undefined;
  for (const line of markdown.split("\n")) {
    const fenceMatch = FENCE.exec(line);
    if (fenceMatch?.[1]) {
      if (!fence) fence = fenceMatch[1];
      else if (line.trim().startsWith(fence)) fence = undefined;
      current.lines.push(line);
      continue;
    }
    const heading = fence ? null : HEADING.exec(line);
    if (heading?.[1] && heading[2] !== undefined) {
      sections.push(current);
      const level = heading[1].length;
      while (stack.length && (stack.at(-1)?.level ?? 0) >= level) stack.pop();
      stack.push({ level, text: headingText(heading[2]), anchor: heading[3] });
      const anchored = [...stack].reverse().find((entry) => entry.anchor);
      const path = stack.map((entry) => entry.text).filter((text) => text && text !== title);
      current = { path, anchor: anchored?.anchor, lines: [] };
      continue;
    }
    current.lines.push(line);
  }
  sections.push(current);
  return sections.filter((section) => section.lines.some((line) => line.trim()));
}

function splitBlocks(lines: string[]): Block[] {
  const blocks: Block[] = [];
  let current: Block | undefined;
  let fence: string | undefined;
  const flush = () => {
    if (current?.lines.some((line) => line.trim())) blocks.push(current);
    current = undefined;
  };
  for (const line of lines) {
    if (fence) {
      current?.lines.push(line);
      if (line.trim().startsWith(fence)) {
        fence = undefined;
        flush();
      }
      continue;
    }
    const fenceMatch = FENCE.exec(line);
    if (fenceMatch?.[1]) {
      flush();
      fence = fenceMatch[1];
      current = { kind: "code", lines: [line] };
      continue;
    }
    const isRow = /^\s*\|.*\|\s*$/.test(line);
    if (isRow) {
      if (current?.kind !== "table") {
        flush();
        current = { kind: "table", lines: [] };
      }
      current.lines.push(line);
      continue;
    }
    if (!line.trim()) {
      flush();
      continue;
    }
    if (current?.kind !== "text") {
      flush();
      current = { kind: "text", lines: [] };
    }
    current.lines.push(line);
  }
  if (fence && current) current.lines.push(fence);
  flush();
  return blocks;
}

/**
 * A sentence of prose, with its trailing space: it ends at `.`, `!` or `?` followed by a space or the end, or at
 * a line break. A full stop inside a token (`os.path`, `../c-api/index.html`, `3.11`) does not end it, so a chunk
 * boundary or an overlap never starts in the middle of a name or a link.
 */
const SENTENCE = /(?:[^.!?\n]|[.!?]+(?=[^\s.!?]))+(?:[.!?]+(?=\s|$)|\n|$)\s*|[.!?]+\s*/g;

/** Cuts one oversized block into pieces that each fit the budget and stay valid Markdown. */
function splitBlock(block: Block, maxChars: number): string[] {
  const text = block.lines.join("\n");
  if (text.length <= maxChars) return [text];
  if (block.kind === "code") {
    const open = block.lines[0] ?? "```";
    const close = block.lines.at(-1)?.trim().startsWith(open.trim().slice(0, 3))
      ? (block.lines.at(-1) ?? "```")
      : "```";
    return packLines(block.lines.slice(1, -1), maxChars - open.length - close.length - 2).map(
      (body) => `${open}\n${body}\n${close}`,
    );
  }
  if (block.kind === "table") {
    const header = block.lines.slice(0, 2);
    const headerText = header.join("\n");
    return packLines(block.lines.slice(2), maxChars - headerText.length - 1).map((rows) => `${headerText}\n${rows}`);
  }
  const sentences = text.match(SENTENCE) ?? [text];
  const pieces: string[] = [];
  for (const sentence of sentences) {
    if (sentence.length <= maxChars) pieces.push(sentence);
    else for (let at = 0; at < sentence.length; at += maxChars) pieces.push(sentence.slice(at, at + maxChars));
  }
  return packLines(pieces, maxChars, "");
}

function packLines(lines: string[], maxChars: number, joiner = "\n"): string[] {
  const out: string[] = [];
  let current = "";
  for (const line of lines) {
    if (current && current.length + joiner.length + line.length > maxChars) {
      out.push(current);
      current = "";
    }
    current = current ? current + joiner + line : line;
  }
  if (current.trim()) out.push(current);
  return out;
}

/** The tail of a chunk repeated at the start of the next one: whole sentences of prose, never code or tables. */
function overlapTail(text: string, maxChars: number): string {
  if (maxChars <= 0 || /```|~~~|^\s*\|/m.test(text.slice(-maxChars * 2))) return "";
  const sentences = text.match(SENTENCE) ?? [];
  let tail = "";
  for (let i = sentences.length - 1; i >= 0; i--) {
    const candidate = (sentences[i] ?? "") + tail;
    if (candidate.length > maxChars) break;
    tail = candidate;
  }
  return (tail.trim() ? tail : sentenceEnd(text, maxChars)).trim();
}

/**
 * When the last sentence is longer than the overlap, its end from a word boundary: the start is never inside a
 * link's label or a code span, so the carried text reads on its own.
 */
function sentenceEnd(text: string, maxChars: number): string {
  const end = text.slice(-maxChars);
  for (const boundary of end.matchAll(/\s(?=\S)/g)) {
    const tail = end.slice(boundary.index + 1);
    const insideLabel = /^[^[]*\]\(/.test(tail);
    const insideCode = (tail.match(/`/g)?.length ?? 0) % 2 === 1;
    if (!insideLabel && !insideCode) return tail;
  }
  return "";
}

export function chunkMarkdown(title: string, markdown: string, options: ChunkOptions = {}): Chunk[] {
  const maxChars = (options.maxTokens ?? 300) * 4;
  const overlapChars = Math.floor(maxChars * (options.overlap ?? 0.12));
  const chunks: Chunk[] = [];
  for (const section of splitSections(title, markdown)) {
    const sectionPath = [title, ...section.path].filter(Boolean).join(" \u203a ");
    // Pieces leave room for the overlap so a carried tail still fits in front of the next one.
    const pieces = splitBlocks(section.lines).flatMap((block) => splitBlock(block, maxChars - overlapChars));
    let current = "";
    // The overlap carried into a new chunk; a chunk that holds nothing else is not emitted.
    let carriedTail = "";
    const first = chunks.length;
    const emit = (last = false) => {
      const text = current.trim();
      if (!text || text === carriedTail) return;
      // A short last piece ("To deactivate it, type: deactivate") says little alone and would outrank the
      // passage it completes; it joins the previous chunk of the section when that stays near the budget.
      const previous = chunks.at(-1);
      const fresh = carriedTail && text.startsWith(carriedTail) ? text.slice(carriedTail.length).trim() : text;
      if (last && previous && chunks.length > first && fresh.length < maxChars * 0.3) {
        if (previous.text.length + 2 + fresh.length <= maxChars * 1.3) {
          previous.text = `${previous.text}\n\n${fresh}`;
          return;
        }
      }
      chunks.push({ index: chunks.length, section: sectionPath, anchor: section.anchor, text });
    };
    for (const piece of pieces) {
      if (current && current.length + 2 + piece.length > maxChars) {
        emit();
        const tail = overlapTail(current, overlapChars);
        current = tail && tail.length + 2 + piece.length <= maxChars ? tail : "";
        carriedTail = current.trim();
      }
      current = current ? `${current}\n\n${piece}` : piece;
    }
    emit(true);
  }
  return chunks;
}
