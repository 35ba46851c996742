import {
  clean,
  codeLanguageOf,
  headerlessTableMarkdown,
  tableCellMarkdown,
  unescapeIntrawordUnderscores,
} from "./content-rules.js";
import { CDATA, ELEMENT, freeze, TEXT, type TreeNode } from "./html-tree.js";

/*
 * HTML tree → Markdown with the output of turndown 7.2 + turndown-plugin-gfm 1.0 configured as extract-dom.ts
 * configures them (atx headings with anchors, fenced code, `-` bullets, `*` emphasis, GFM tables, bare <pre>
 * fenced with its highlight language). It follows turndown's algorithm step by step (whitespace collapsing,
 * blank nodes, flanking whitespace, the newline-joining of replacements, Markdown escaping) on the light tree of
 * html-tree.ts, where turndown on linkedom spends most of its time in DOM queries repeated for every node.
 * test/ingest/fast-extract.test.ts and bench/ingest/compare-extract.mjs hold the two side by side.
 */

const BLOCK = new Set([
  "ADDRESS",
  "ARTICLE",
  "ASIDE",
  "AUDIO",
  "BLOCKQUOTE",
  "BODY",
  "CANVAS",
  "CENTER",
  "DD",
  "DIR",
  "DIV",
  "DL",
  "DT",
  "FIELDSET",
  "FIGCAPTION",
  "FIGURE",
  "FOOTER",
  "FORM",
  "FRAMESET",
  "H1",
  "H2",
  "H3",
  "H4",
  "H5",
  "H6",
  "HEADER",
  "HGROUP",
  "HR",
  "HTML",
  "ISINDEX",
  "LI",
  "MAIN",
  "MENU",
  "NAV",
  "NOFRAMES",
  "NOSCRIPT",
  "OL",
  "OUTPUT",
  "P",
  "PRE",
  "SECTION",
  "TABLE",
  "TBODY",
  "TD",
  "TFOOT",
  "TH",
  "THEAD",
  "TR",
  "UL",
]);
const VOID = new Set([
  "AREA",
  "BASE",
  "BR",
  "COL",
  "COMMAND",
  "EMBED",
  "HR",
  "IMG",
  "INPUT",
  "KEYGEN",
  "LINK",
  "META",
  "PARAM",
  "SOURCE",
  "TRACK",
  "WBR",
]);
const MEANINGFUL_WHEN_BLANK = new Set([
  "A",
  "TABLE",
  "THEAD",
  "TBODY",
  "TFOOT",
  "TH",
  "TD",
  "IFRAME",
  "SCRIPT",
  "AUDIO",
  "VIDEO",
]);
const HEADINGS = new Set(["H1", "H2", "H3", "H4", "H5", "H6"]);
const HIGHLIGHT = /highlight-(?:text|source)-([a-z0-9]+)/;

/** Converts the children of `root` (which it modifies: whitespace is collapsed in place). May throw, as turndown does on malformed tables. */
export function treeToMarkdown(root: TreeNode): string {
  collapseWhitespace(root);
  freeze(root);
  const output = processChildren(root);
  return output
    .join("")
    .replace(/^[\t\r\n]+/, "")
    .trimEnd();
}

// --- whitespace (turndown's collapseWhitespace, adapted from collapse-whitespace) ---

function isPre(node: TreeNode): boolean {
  return node.name === "PRE";
}

function collapseWhitespace(element: TreeNode): void {
  if (!element.first || isPre(element)) return;
  let prevText: TreeNode | undefined;
  let keepLeadingWs = false;
  let prev: TreeNode | undefined;
  let node: TreeNode | undefined = nextInWalk(undefined, element);
  while (node && node !== element) {
    if (node.type === TEXT || node.type === CDATA) {
      let text = node.data.replace(/[ \r\n\t]+/g, " ");
      if ((!prevText || prevText.data.endsWith(" ")) && !keepLeadingWs && text[0] === " ") text = text.slice(1);
      if (!text) {
        node = removeInWalk(node);
        continue;
      }
      node.data = text;
      prevText = node;
    } else if (node.type === ELEMENT) {
      if (BLOCK.has(node.name) || node.name === "BR") {
        if (prevText) prevText.data = prevText.data.replace(/ $/, "");
        prevText = undefined;
        keepLeadingWs = false;
      } else if (VOID.has(node.name) || isPre(node)) {
        prevText = undefined;
        keepLeadingWs = true;
      } else if (prevText) {
        keepLeadingWs = false;
      }
    } else {
      node = removeInWalk(node);
      continue;
    }
    const following = nextInWalk(prev, node);
    prev = node;
    node = following;
  }
  if (prevText) {
    prevText.data = prevText.data.replace(/ $/, "");
    if (!prevText.data) prevText.remove();
  }
}

function removeInWalk(node: TreeNode): TreeNode | undefined {
  const following = node.next ?? node.parent;
  node.remove();
  return following;
}

function nextInWalk(prev: TreeNode | undefined, current: TreeNode): TreeNode | undefined {
  if ((prev && prev.parent === current) || isPre(current)) return current.next ?? current.parent;
  return current.first ?? current.next ?? current.parent;
}

// --- conversion ---

function processChildren(parent: TreeNode): string[] {
  const output: string[] = [];
  for (let node = parent.first; node; node = node.next) {
    node.isCode = node.name === "CODE" || parent.isCode;
    let replacement = "";
    if (node.type === TEXT)
      replacement = node.isCode ? node.data : unescapeIntrawordUnderscores(escapeMarkdown(node.data));
    else if (node.type === ELEMENT) replacement = replacementForNode(node);
    join(output, replacement);
  }
  return output;
}

function replacementForNode(node: TreeNode): string {
  const rule = ruleFor(node);
  let content = rule.content ? processChildren(node).join("") : "";
  if (BLOCK.has(node.name)) return rule.replace(content, node);
  const { leading, trailing } = flankingWhitespace(node);
  if (leading || trailing) content = content.trim();
  return leading + rule.replace(content, node) + trailing;
}

/** The text a block rule inserts, and whether it reads the converted children (skipped when it does not). */
interface Rule {
  content: boolean;
  replace(content: string, node: TreeNode): string;
}

const rule = (replace: Rule["replace"], content = true): Rule => ({ content, replace });

const blank = rule((_, node) => (BLOCK.has(node.name) ? "\n\n" : ""), false);
const barePre = rule((_, node) => {
  const text = node.textContent().replace(/\n+$/, "");
  return `\n\n\`\`\`${codeLanguageOf(node)}\n${text}\n\`\`\`\n\n`;
}, false);
const heading = rule((_, node) => {
  const text = clean(node.textContent());
  if (!text) return "";
  const anchor = node.attr("data-anchor");
  return `\n\n${"#".repeat(Number(node.name.charAt(1)))} ${text}${anchor ? ` {#${anchor}}` : ""}\n\n`;
}, false);
const taskListItem = rule((_, node) => `${node.attr("checked") !== undefined ? "[x]" : "[ ]"} `, false);
const tableSection = rule((content) => content);
const table = rule((content) => `\n\n${content.replace("\n\n", "\n")}\n\n`);
const headerlessTable = rule((content, node) => headerlessTableMarkdown(content, columnCount(node)));
const tableRow = rule((content, node) => {
  let borderCells = "";
  if (isHeadingRow(node)) {
    for (let cellNode = node.first; cellNode; cellNode = cellNode.next) {
      // turndown calls getAttribute on every child: a text node between cells is a TypeError there too.
      if (cellNode.type !== ELEMENT) throw new TypeError("table row holds text outside its cells");
      const align = (cellNode.attr("align") ?? "").toLowerCase();
      const border = align === "left" ? ":--" : align === "right" ? "--:" : align === "center" ? ":-:" : "---";
      borderCells += cell(border, cellNode);
    }
  }
  return `\n${content}${borderCells ? `\n${borderCells}` : ""}`;
});
const tableCell = rule((content, node) => cell(tableCellMarkdown(content), node));
const strikethrough = rule((content) => `~${content}~`);
const highlightedCodeBlock = rule((_, node) => {
  const language = (node.attr("class") ?? "").match(HIGHLIGHT)?.[1] ?? "";
  return `\n\n\`\`\`${language}\n${node.first?.textContent() ?? ""}\n\`\`\`\n\n`;
}, false);
const paragraph = rule((content) => `\n\n${content}\n\n`);
const lineBreak = rule(() => "  \n", false);
const blockquote = rule((content) => `\n\n${trimNewlines(content).replace(/^/gm, "> ")}\n\n`);
const list = rule((content, node) => {
  const parent = node.parent;
  if (parent?.name === "LI" && parent.lastElementChild === node) return `\n${content}`;
  return `\n\n${content}\n\n`;
});
const listItem = rule((content, node) => {
  let prefix = "-   ";
  const parent = node.parent;
  if (parent?.name === "OL") {
    const start = parent.attr("start");
    let index = 0;
    for (let sibling = parent.firstElementChild; sibling && sibling !== node; sibling = nextElement(sibling)) index++;
    prefix = `${start ? Number(start) + index : index + 1}.  `;
  }
  const isParagraph = /\n$/.test(content);
  let body = trimNewlines(content) + (isParagraph ? "\n" : "");
  body = body.replace(/\n/gm, `\n${" ".repeat(prefix.length)}`);
  return prefix + body + (node.next ? "\n" : "");
});
const fencedCodeBlock = rule((_, node) => {
  const codeNode = node.first;
  const className = codeNode?.attr("class") ?? "";
  const language = className.match(/language-(\S+)/)?.[1] ?? "";
  const code = codeNode?.textContent() ?? "";
  let fenceSize = 3;
  for (const match of code.matchAll(/^`{3,}/gm)) if (match[0].length >= fenceSize) fenceSize = match[0].length + 1;
  const fence = "`".repeat(fenceSize);
  return `\n\n${fence}${language}\n${code.replace(/\n$/, "")}\n${fence}\n\n`;
}, false);
const horizontalRule = rule(() => "\n\n* * *\n\n", false);
const inlineLink = rule((content, node) => {
  const href = escapeLinkDestination(node.attr("href") ?? "");
  const title = escapeLinkTitle(cleanAttribute(node.attr("title")));
  return `[${content}](${href}${title ? ` "${title}"` : ""})`;
});
const emphasis = rule((content) => (content.trim() ? `*${content}*` : ""));
const strong = rule((content) => (content.trim() ? `**${content}**` : ""));
const code = rule((content) => {
  if (!content) return "";
  const text = content.replace(/\r?\n|\r/g, " ");
  const extraSpace = /^`|^ .*?[^ ].* $|`$/.test(text) ? " " : "";
  let delimiter = "`";
  const matches: string[] = text.match(/`+/gm) ?? [];
  while (matches.includes(delimiter)) delimiter += "`";
  return delimiter + extraSpace + text + extraSpace + delimiter;
});
const image = rule((_, node) => {
  const alt = escapeMarkdown(cleanAttribute(node.attr("alt")));
  const src = escapeLinkDestination(node.attr("src") ?? "");
  const title = cleanAttribute(node.attr("title"));
  return src ? `![${alt}](${src}${title ? ` "${escapeLinkTitle(title)}"` : ""})` : "";
}, false);
const fallback = rule((content, node) => (BLOCK.has(node.name) ? `\n\n${content}\n\n` : content));

/** turndown's rule lookup: blank nodes first, then the rules in priority order (added rules before built-in ones). */
function ruleFor(node: TreeNode): Rule {
  if (isBlank(node)) return blank;
  const name = node.name;
  if (name === "PRE" && !node.find((n) => n.name === "CODE")) return barePre;
  if (HEADINGS.has(name)) return heading;
  if (name === "INPUT" && node.attr("type") === "checkbox" && node.parent?.name === "LI") return taskListItem;
  if (name === "THEAD" || name === "TBODY" || name === "TFOOT") return tableSection;
  if (name === "TABLE" && isHeadingRow(firstRow(node))) return table;
  if (name === "TR") return tableRow;
  if (name === "TH" || name === "TD") return tableCell;
  if (name === "DEL" || name === "S" || name === "STRIKE") return strikethrough;
  if (name === "DIV" && HIGHLIGHT.test(node.attr("class") ?? "") && node.first?.name === "PRE") {
    return highlightedCodeBlock;
  }
  if (name === "P") return paragraph;
  if (name === "BR") return lineBreak;
  if (name === "BLOCKQUOTE") return blockquote;
  if (name === "UL" || name === "OL") return list;
  if (name === "LI") return listItem;
  if (name === "PRE" && node.first?.name === "CODE") return fencedCodeBlock;
  if (name === "HR") return horizontalRule;
  if (name === "A" && node.attr("href")) return inlineLink;
  if (name === "EM" || name === "I") return emphasis;
  if (name === "STRONG" || name === "B") return strong;
  if (name === "CODE" && !(node.parent?.name === "PRE" && !node.prev && !node.next)) return code;
  if (name === "IMG") return image;
  // turndown-plugin-gfm keeps a table without a heading row as HTML; both extractors write it as GFM instead.
  // (A table without rows has already thrown in isHeadingRow above, as it does in the plugin.)
  if (name === "TABLE") return headerlessTable;
  return fallback;
}

function isBlank(node: TreeNode): boolean {
  return (
    !VOID.has(node.name) &&
    !MEANINGFUL_WHEN_BLANK.has(node.name) &&
    !node.hasText &&
    !node.find((n) => VOID.has(n.name) || MEANINGFUL_WHEN_BLANK.has(n.name))
  );
}

/**
 * turndown's flanking whitespace: the whitespace at the edges of an inline node's text moves outside its Markdown
 * (`<em> a </em>` → ` *a* `), minus ASCII spaces a neighbour already supplies. Read from the edge text nodes
 * rather than from the whole textContent.
 */
function flankingWhitespace(node: TreeNode): { leading: string; trailing: string } {
  if (!node.hasText) {
    // Whitespace only: all of it is "leading", nothing trailing.
    const text = node.textContent();
    const ascii = asciiPrefix(text);
    return { leading: ascii > 0 && isFlanked(node.prev, true) ? text.slice(ascii) : text, trailing: "" };
  }
  let leading = edgeWhitespace(node, true);
  let trailing = edgeWhitespace(node, false);
  const ascii = asciiPrefix(leading);
  if (ascii > 0 && isFlanked(node.prev, true)) leading = leading.slice(ascii);
  const asciiTail = asciiSuffix(trailing);
  if (asciiTail < trailing.length && isFlanked(node.next, false)) trailing = trailing.slice(0, asciiTail);
  return { leading, trailing };
}

/** The whitespace at the start (or end) of a node's textContent, which holds some non-whitespace text. */
function edgeWhitespace(node: TreeNode, start: boolean): string {
  let edge = "";
  const visit = (current: TreeNode): boolean => {
    if (current.type !== ELEMENT) {
      const text = current.data;
      if (!current.hasText) {
        edge = start ? edge + text : text + edge;
        return false;
      }
      if (start) {
        let end = 0;
        while (isSpace(text.charCodeAt(end))) end++;
        edge += text.slice(0, end);
      } else {
        let begin = text.length;
        while (isSpace(text.charCodeAt(begin - 1))) begin--;
        edge = text.slice(begin) + edge;
      }
      return true;
    }
    for (let child = start ? current.first : current.last; child; child = start ? child.next : child.prev) {
      if (visit(child)) return true;
    }
    return false;
  };
  visit(node);
  return edge;
}

function asciiPrefix(text: string): number {
  let end = 0;
  while (end < text.length && isAsciiSpace(text.charCodeAt(end))) end++;
  return end;
}

/** Index where the run of ASCII whitespace at the end of `text` starts. */
function asciiSuffix(text: string): number {
  let begin = text.length;
  while (begin > 0 && isAsciiSpace(text.charCodeAt(begin - 1))) begin--;
  return begin;
}

function isFlanked(sibling: TreeNode | undefined, left: boolean): boolean {
  if (!sibling) return false;
  if (sibling.type === TEXT) return left ? sibling.data.endsWith(" ") : sibling.data.startsWith(" ");
  if (sibling.type !== ELEMENT || BLOCK.has(sibling.name)) return false;
  return edgeChar(sibling, left) === " ";
}

/** The last (or first) character of an element's textContent. */
function edgeChar(node: TreeNode, last: boolean): string | undefined {
  for (let child = last ? node.last : node.first; child; child = last ? child.prev : child.next) {
    if (child.type === ELEMENT) {
      const found = edgeChar(child, last);
      if (found !== undefined) return found;
    } else if (child.data) {
      return last ? child.data.charAt(child.data.length - 1) : child.data.charAt(0);
    }
  }
  return undefined;
}

function isAsciiSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

const SPACE = /\s/;
function isSpace(code: number): boolean {
  return code <= 0x20
    ? isAsciiSpace(code) || code === 0x0b || code === 0x0c
    : code >= 0xa0 && SPACE.test(String.fromCharCode(code));
}

function join(output: string[], replacement: string): void {
  const tail = output.pop() ?? "";
  const s1 = trimTrailingNewlines(tail);
  const s2 = trimLeadingNewlines(replacement);
  const nls = Math.max(tail.length - s1.length, replacement.length - s2.length);
  const separator = "\n\n".substring(0, nls);
  if (s1) output.push(s1);
  if (separator) output.push(separator);
  if (s2) output.push(s2);
}

function trimLeadingNewlines(text: string): string {
  let start = 0;
  while (start < text.length && text.charCodeAt(start) === 0x0a) start++;
  return start ? text.slice(start) : text;
}

function trimTrailingNewlines(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x0a) end--;
  return end < text.length ? text.slice(0, end) : text;
}

function trimNewlines(text: string): string {
  return trimTrailingNewlines(trimLeadingNewlines(text));
}

// --- tables (turndown-plugin-gfm) ---

/** The most cells in one row of this table (not of a table nested in a cell). */
function columnCount(tableNode: TreeNode): number {
  let most = 0;
  tableNode.find((n) => {
    if (n.name === "TR" && closestTable(n) === tableNode) {
      let cells = 0;
      for (let c = n.first; c; c = c.next) if (c.name === "TD" || c.name === "TH") cells++;
      most = Math.max(most, cells);
    }
    return false;
  });
  return most;
}

/** `table.rows[0]`: the first row whose nearest table is this one. */
function firstRow(tableNode: TreeNode): TreeNode | undefined {
  return tableNode.find((n) => n.name === "TR" && closestTable(n) === tableNode);
}

function closestTable(node: TreeNode): TreeNode | undefined {
  let current = node.parent;
  while (current && current.name !== "TABLE") current = current.parent;
  return current;
}

function isHeadingRow(tr: TreeNode | undefined): boolean {
  // The plugin reads `rows[0].parentNode`: a table without rows throws there, and turndown with it.
  if (!tr?.parent) throw new TypeError("table without rows");
  const parent = tr.parent;
  if (parent.name === "THEAD") return true;
  if (parent.first !== tr) return false;
  if (!(parent.name === "TABLE" || isFirstTbody(parent))) return false;
  for (let child = tr.first; child; child = child.next) if (child.name !== "TH") return false;
  return true;
}

function isFirstTbody(element: TreeNode): boolean {
  if (element.name !== "TBODY") return false;
  const previous = element.prev;
  return !previous || (previous.name === "THEAD" && /^\s*$/.test(previous.textContent()));
}

function cell(content: string, node: TreeNode): string {
  return `${node.parent?.first === node ? "| " : " "}${content} |`;
}

function nextElement(node: TreeNode): TreeNode | undefined {
  let current = node.next;
  while (current && current.type !== ELEMENT) current = current.next;
  return current;
}

// --- escaping ---

const ESCAPES: [RegExp, string][] = [
  [/\\/g, "\\\\"],
  [/\*/g, "\\*"],
  [/^-/g, "\\-"],
  [/^\+ /g, "\\+ "],
  [/^(=+)/g, "\\$1"],
  [/^(#{1,6}) /g, "\\$1 "],
  [/`/g, "\\`"],
  [/^~~~/g, "\\~~~"],
  [/\[/g, "\\["],
  [/\]/g, "\\]"],
  [/^>/g, "\\>"],
  [/_/g, "\\_"],
  [/^(\d+)\. /g, "$1\\. "],
];
// Every escape above is triggered by one of these; each replacement only adds backslashes, which trigger nothing new.
const NEEDS_ESCAPE = /[\\*`[\]_]|^[-+=#~>]|^\d+\. /;

function escapeMarkdown(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of ESCAPES) out = out.replace(pattern, replacement);
  return out;
}

function cleanAttribute(attribute: string | undefined): string {
  return attribute ? attribute.replace(/(\n+\s*)+/g, "\n") : "";
}

function escapeLinkDestination(destination: string): string {
  const escaped = destination.replace(/([<>()])/g, "\\$1");
  return escaped.includes(" ") ? `<${escaped}>` : escaped;
}

function escapeLinkTitle(title: string): string {
  return title.replace(/"/g, '\\"');
}
