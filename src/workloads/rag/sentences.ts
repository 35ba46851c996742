/**
 * Whole sentences of prose out of an extracted Markdown passage, for an answer that quotes the documentation
 * (the offline answerer). A quoted sentence must read as the page does: names keep their underscores, code spans
 * stay whole (`os.path.join()` holds full stops that end nothing), links read as their labels, and what is not
 * prose (code, tables, headings, a table of contents' link lists, the lead-in to a code example ending in ":", a
 * passage's first words when the chunker's overlap began it mid-sentence) is not a sentence at all.
 */
import { MARKDOWN_LINK, unescapeMarkdown } from "./markdown-text.js";

const FENCE = /^\s*(`{3,}|~{3,})/;
const HEADING = /^\s*#{1,6}\s/;
const TABLE_ROW = /^\s*\|/;
const RULE = /^\s*([-*_])(?:\s*\1){2,}\s*$/;
const LIST_ITEM = /^\s*(?:[-*+]|\d{1,3}[.)])\s+/;
const QUOTE = /^\s*>\s?/;
/** A footnote reference, `[\[1\]](#id2)`: not part of the sentence, and read as a citation it would mislead. */
const FOOTNOTE = /\s*\[\\?\[\d+\\?\]\]\([^)\s]*\)/g;
/** Words that end in a full stop without ending the sentence (a boundary also needs no lowercase after it). */
const ABBREVIATION = /(?:^|[\s(])(?:e\.g|i\.e|vs|cf|approx|incl|resp|fig|mr|mrs|ms|dr|prof)$/i;

/** The paragraphs and list items of a passage as single lines of Markdown; code, tables and headings left out. */
function proseBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | undefined;
  const flush = () => {
    if (current.length) blocks.push(current.join(" "));
    current = [];
  };
  for (const raw of markdown.split("\n")) {
    if (fence) {
      if (raw.trim().startsWith(fence)) fence = undefined;
      continue;
    }
    const opening = FENCE.exec(raw)?.[1];
    if (opening) {
      flush();
      fence = opening.slice(0, 3);
      continue;
    }
    if (!raw.trim() || HEADING.test(raw) || TABLE_ROW.test(raw) || RULE.test(raw)) {
      flush();
      continue;
    }
    let line = raw.replace(QUOTE, "");
    if (LIST_ITEM.test(line)) {
      flush();
      line = line.replace(LIST_ITEM, "");
    }
    current.push(line.trim());
  }
  flush();
  return blocks;
}

/** The passage without its fenced code: what it says in words (tables and headings included). */
export function withoutCode(markdown: string): string {
  if (!/^\s*(?:`{3,}|~{3,})/m.test(markdown)) return markdown;
  const kept: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split("\n")) {
    if (fence) {
      if (line.trim().startsWith(fence)) fence = undefined;
      continue;
    }
    const opening = FENCE.exec(line)?.[1];
    if (opening) fence = opening.slice(0, 3);
    else kept.push(line);
  }
  return kept.join("\n");
}

/** Markdown inline text as read: footnote marks dropped, links as their labels, escapes undone; code spans kept. */
export function readableInline(markdown: string): string {
  return unescapeMarkdown(markdown.replace(FOOTNOTE, "").replace(MARKDOWN_LINK, "$1")).replace(/\s+/g, " ").trim();
}

/**
 * Where a sentence ends in `text`: after `.`, `!` or `?` (and any closing quote or bracket) outside a code span,
 * followed by a space and something other than a lower-case letter, unless the stop is part of an ellipsis
 * ("`try` ... `except`") or of an abbreviation ("e.g. `sort()`").
 */
function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  let inCode = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "`") {
      let run = 1;
      while (text[i + run] === "`") run++;
      const ticks = "`".repeat(run);
      if (!inCode) inCode = ticks;
      else if (inCode === ticks) inCode = "";
      i += run - 1;
      continue;
    }
    if (inCode || (c !== "." && c !== "!" && c !== "?")) continue;
    const at = i;
    let end = i;
    while (/[.!?]/.test(text[end + 1] ?? "")) end++;
    const stops = text.slice(i, end + 1);
    while (/["'’”)\]]/.test(text[end + 1] ?? "")) end++;
    const after = text.slice(end + 1);
    i = end;
    if (!/^\s+\S/.test(after) || /^\s+\p{Ll}/u.test(after)) continue;
    if (/^\.{2,}$/.test(stops) || (stops === "." && ABBREVIATION.test(text.slice(start, at)))) continue;
    sentences.push(text.slice(start, end + 1).trim());
    start = end + 1;
  }
  const rest = text.slice(start).trim();
  if (rest) sentences.push(rest);
  return sentences;
}

/** A sentence that can be quoted alone: it starts as a sentence does and ends with a full stop, `!` or `?`. */
function quotable(sentence: string): boolean {
  return (
    /^[\p{Lu}\p{N}`"'“‘(*]/u.test(sentence) &&
    /[^.][.!?]["'’”)\]]*$/.test(sentence) &&
    (sentence.match(/`/g)?.length ?? 0) % 2 === 0 &&
    // `a[1]` would be read as a citation of source 1 and cut out of the answer.
    !/\[\d{1,3}\]/.test(sentence) &&
    sentence.split(" ").length >= 4 &&
    sentence.length <= 600
  );
}

/** The passage's quotable sentences, in reading order, as text (code spans and emphasis kept as Markdown). */
export function proseSentences(markdown: string): string[] {
  return proseBlocks(markdown).flatMap((block) => splitSentences(readableInline(block)).filter(quotable));
}
