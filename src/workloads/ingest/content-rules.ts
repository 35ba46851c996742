import { ELEMENT, type TreeNode } from "./html-tree.js";

/*
 * What counts as content, shared by the fast extractor (extract.ts on html-tree.ts) and the DOM one
 * (extract-dom.ts on linkedom, used for the Readability fallback and as the reference in tests).
 */

/**
 * Content roots tried in order; the first that holds a reasonable amount of text wins. Doc generators
 * (Sphinx, MkDocs, Docusaurus, GitBook, DITA) put the article in one of these. DocBook XSL (PostgreSQL, many GNU
 * and Linux manuals) wraps each page in a div classed after its DocBook element, between its `.navheader` and
 * `.navfooter`; those come last, outermost first, so a one-page book is taken whole. Without them such pages went
 * to Readability, which is slow there and dropped whole sections (a reference page's synopsis and description).
 */
export const ROOT_SELECTORS = [
  "[role=main]",
  "main",
  "article",
  ".rst-content",
  ".md-content",
  ".markdown-body",
  ".theme-doc-markdown",
  "#main-content",
  "#content",
  ".body",
  ".content",
  ".set",
  ".book",
  ".part",
  ".reference",
  ".article",
  ".chapter",
  ".appendix",
  ".preface",
  ".glossary",
  ".bibliography",
  ".refentry",
  ".sect1",
  ".section",
];

/** Page furniture: navigation, chrome and anything that is not prose for a reader. */
export const DROP_SELECTORS = [
  "script",
  "style",
  "noscript",
  "template",
  "iframe",
  "svg",
  "canvas",
  "form",
  "button",
  "nav",
  "header",
  "footer",
  "aside",
  "[role=navigation]",
  "[role=banner]",
  "[role=contentinfo]",
  "[aria-hidden=true]",
  ".headerlink",
  ".sphinxsidebar",
  ".related",
  ".breadcrumb",
  ".breadcrumbs",
  ".toc",
  ".sidebar",
];

export const MIN_ROOT_CHARS = 200;

/**
 * A predicate for the one-part selectors above (`tag`, `.class`, `#id`, `[attr=value]`), so both extractors read
 * the same lists. Anything else is a programming error.
 */
export function simpleSelector(selector: string): (node: TreeNode) => boolean {
  const attribute = /^\[([\w-]+)=([\w-]+)\]$/.exec(selector);
  if (attribute) {
    const [, name = "", value] = attribute;
    return (node) => node.attrs[name] === value;
  }
  if (selector.startsWith(".")) {
    const name = selector.slice(1);
    return (node) => node.hasClass(name);
  }
  if (selector.startsWith("#")) {
    const id = selector.slice(1);
    return (node) => node.attrs.id === id;
  }
  if (/^[a-z][a-z0-9]*$/.test(selector)) {
    const tag = selector.toUpperCase();
    return (node) => node.name === tag;
  }
  throw new Error(`unsupported selector ${selector}`);
}

export function clean(text: string): string {
  return text
    .replace(/[\u00b6\u200b]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** The highlight language named by a `highlight-`, `language-` or `lang-` class (Sphinx's `python3` → `python`). */
export function languageFromClass(className: string): string | undefined {
  const match = /(?:^|\s)(?:highlight|language|lang)-([\w+-]+)/.exec(className);
  return match?.[1] && match[1] !== "default" ? match[1].replace(/\d+$/, "") : undefined;
}

/** The language of a bare `<pre>` from the classes of up to three enclosing elements. */
export function codeLanguageOf(node: TreeNode): string {
  let element = node.parentElement;
  for (let depth = 0; element && depth < 3; depth++, element = element.parentElement) {
    const language = languageFromClass(element.attrs.class ?? "");
    if (language) return language;
  }
  return "";
}

/** `<title>` usually carries a site suffix ("X — Python 3.11 documentation"); h1 is the page's own name. */
export function pageTitle(h1Text: string, titleTag: string): string {
  return (h1Text || titleTag.split(/\s+[|\u2014\u2013-]\s+/)[0] || titleTag).normalize("NFKC");
}

export function canonicalUrl(href: string | undefined | null): string | undefined {
  return href && /^https?:\/\//i.test(href) ? href : undefined;
}

/**
 * A table cell's Markdown made fit for one GFM table row. turndown's GFM rule keeps a cell's blocks as they are,
 * so a cell holding paragraphs, a list or a code block (Sphinx wraps every cell in <p>) broke the row over
 * several lines and the table stopped being a table for the chunker and the reader. Blocks are joined with
 * spaces, a fenced block becomes inline code, and a literal pipe is escaped so it does not start a column.
 */
export function tableCellMarkdown(content: string): string {
  return content
    .replace(/```[^\n`]*\n([\s\S]*?)\n```/g, (_, code: string) => `\`${code.replace(/\s*\n\s*/g, " ").trim()}\``)
    .replace(/^(\s*(?:[-*+]|\d+\.)) +/gm, "$1 ")
    .replace(/\s*\n\s*/g, " ")
    .replace(/(?<!\\)\|/g, "\\|")
    .trim();
}

/**
 * Undoes turndown's escape of an underscore between two letters or digits: inside a word `_` never starts
 * emphasis (CommonMark 6.2), so `pg\_dump` only made the text harder to read in a source and split the name
 * for search. Underscores at a word's edge (`\_\_init\_\_`) stay escaped.
 */
export function unescapeIntrawordUnderscores(markdown: string): string {
  return markdown.includes("\\_") ? markdown.replace(/(?<=[\p{L}\p{N}])\\_(?=[\p{L}\p{N}])/gu, "_") : markdown;
}

/**
 * A table without a heading row, as GFM: an empty heading row of `columns` cells first, since GFM needs one.
 * turndown-plugin-gfm keeps such a table as raw HTML, which put `docutils`, `colgroup` and every attribute into
 * the index and markup into sources (Sphinx's two-column API tables have no heading row).
 */
export function headerlessTableMarkdown(rows: string, columns: number): string {
  const n = Math.max(1, columns);
  return `\n\n|${"  |".repeat(n)}\n|${" --- |".repeat(n)}${rows.replace("\n\n", "\n")}\n\n`;
}

export function finishMarkdown(markdown: string): string {
  return markdown
    .normalize("NFKC")
    .replace(/\r\n?/g, "\n")
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

export function isElement(node: TreeNode | undefined): node is TreeNode {
  return node?.type === ELEMENT;
}

/** A page reduced to its main content, as Markdown with heading anchors (`## Heading {#anchor}`). */
export interface ExtractedPage {
  title: string;
  markdown: string;
  /** `<link rel=canonical>` when it is an http(s) URL. */
  canonical: string | undefined;
}
