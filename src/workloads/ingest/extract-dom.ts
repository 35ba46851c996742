import { createRequire } from "node:module";
import type { Readability as ReadabilityClass } from "@mozilla/readability";
import type { parseHTML as parseHTMLFunction } from "linkedom";
import type TurndownService from "turndown";
import type { gfm as gfmPlugin } from "turndown-plugin-gfm";
import type { ExtractedPage } from "./content-rules.js";
import {
  canonicalUrl,
  clean,
  DROP_SELECTORS,
  finishMarkdown,
  headerlessTableMarkdown,
  languageFromClass,
  MIN_ROOT_CHARS,
  pageTitle,
  ROOT_SELECTORS,
  tableCellMarkdown,
  unescapeIntrawordUnderscores,
} from "./content-rules.js";

/*
 * The DOM extractor: linkedom + turndown. extract.ts does the same work much faster on a light tree; this one
 * stays for pages where no known content root qualifies (Readability needs a DOM) and as the reference the fast
 * extractor is compared with (test/ingest/fast-extract.test.ts, bench/ingest/compare-extract.mjs).
 */

interface DomModules {
  parseHTML: typeof parseHTMLFunction;
  TurndownService: typeof TurndownService;
  gfm: typeof gfmPlugin;
  Readability: typeof ReadabilityClass;
}

let modules: DomModules | undefined;

/**
 * Loaded on first use (their CommonJS builds, synchronously): most pages never need a DOM, and linkedom alone
 * costs each indexing worker thread a large part of a second to load.
 */
function dom(): DomModules {
  if (modules) return modules;
  const require = createRequire(import.meta.url);
  modules = {
    parseHTML: require("linkedom").parseHTML,
    TurndownService: require("turndown"),
    gfm: require("turndown-plugin-gfm").gfm,
    Readability: require("@mozilla/readability").Readability,
  };
  return modules;
}

let converter: TurndownService | undefined;

function turndown(): TurndownService {
  if (converter) return converter;
  const { TurndownService: Service, gfm } = dom();
  const service = new Service({
    headingStyle: "atx",
    codeBlockStyle: "fenced",
    bulletListMarker: "-",
    emDelimiter: "*",
  });
  service.use(gfm);
  service.addRule("heading-with-anchor", {
    filter: ["h1", "h2", "h3", "h4", "h5", "h6"],
    replacement: (_content, node) => {
      const level = Number(node.nodeName.charAt(1));
      // Plain text: headings become context headers, where link syntax and emphasis are noise.
      const text = clean(node.textContent ?? "");
      if (!text) return "";
      const anchor = node instanceof Object && "getAttribute" in node ? node.getAttribute("data-anchor") : null;
      return `\n\n${"#".repeat(level)} ${text}${anchor ? ` {#${anchor}}` : ""}\n\n`;
    },
  });
  // turndown-plugin-gfm's own cell rule, with the cell's blocks kept on the row (see tableCellMarkdown).
  service.addRule("table-cell-on-one-line", {
    filter: ["th", "td"],
    replacement: (content, node) => {
      const first = node.parentNode?.firstChild === node;
      return `${first ? "| " : " "}${tableCellMarkdown(content)} |`;
    },
  });
  // A table without a heading row: GFM with an empty heading row, as the fast extractor writes it.
  service.addRule("table-without-heading-row", {
    filter: (node) => node.nodeName === "TABLE" && hasRowsButNoHeadingRow(node),
    replacement: (content, node) => headerlessTableMarkdown(content, columnCount(node)),
  });
  // Sphinx and many generators emit <pre> without an inner <code>; turndown only fences pre>code.
  service.addRule("bare-pre", {
    filter: (node) => node.nodeName === "PRE" && !node.querySelector("code"),
    replacement: (_content, node) => {
      const text = (node.textContent ?? "").replace(/\n+$/, "");
      const language = codeLanguage(node);
      return `\n\n\`\`\`${language}\n${text}\n\`\`\`\n\n`;
    },
  });
  const escapeText = service.escape.bind(service);
  service.escape = (text: string) => unescapeIntrawordUnderscores(escapeText(text));
  converter = service;
  return service;
}

function codeLanguage(node: TurndownService.Node): string {
  let element: Element | null = node instanceof Object && "parentElement" in node ? node.parentElement : null;
  for (let depth = 0; element && depth < 3; depth++, element = element.parentElement) {
    const language = languageFromClass(element.getAttribute("class") ?? "");
    if (language) return language;
  }
  return "";
}

/** The anchor a reader lands on for this heading: its id, its section's id, or the id just before it. */
function headingAnchor(heading: Element): string | undefined {
  if (heading.id) return heading.id;
  const parent = heading.parentElement;
  if (parent?.id && parent.firstElementChild === heading) return parent.id;
  if (parent?.id && /^(section|div)$/i.test(parent.nodeName)) {
    const firstHeading = parent.querySelector("h1,h2,h3,h4,h5,h6");
    if (firstHeading === heading) return parent.id;
  }
  const previous = heading.previousElementSibling;
  if (previous?.id && !previous.textContent?.trim()) return previous.id;
  const link = heading.querySelector("a.headerlink, a[href^='#']");
  const href = link?.getAttribute("href");
  return href?.startsWith("#") && href.length > 1 ? href.slice(1) : undefined;
}

/**
 * linkedom's table elements have no `rows`, which the GFM table rule reads; turndown clones the tree, so the
 * property goes on linkedom's table prototype (once), not on the elements.
 */
function addTableRows(table: Element): void {
  const prototype: object | null = Object.getPrototypeOf(table);
  if (!prototype || Object.hasOwn(prototype, "rows")) return;
  Object.defineProperty(prototype, "rows", {
    configurable: true,
    get(this: Element) {
      return [...this.querySelectorAll("tr")].filter((row) => row.closest("table") === this);
    },
  });
}

function parse(html: string): Document {
  return dom().parseHTML(html.includes("<html") ? html : `<!doctype html><html><body>${html}</body></html>`).document;
}

function pickRoot(document: Document): HTMLElement | undefined {
  for (const selector of ROOT_SELECTORS) {
    const candidate = document.querySelector<HTMLElement>(selector);
    if (candidate && (candidate.textContent ?? "").trim().length >= MIN_ROOT_CHARS) return candidate;
  }
  return undefined;
}

/** Drops furniture under `root`, marks heading anchors and converts it (the tree is consumed). */
function rootToMarkdown(root: HTMLElement): { markdown: string; h1: string } {
  for (const selector of DROP_SELECTORS) {
    for (const element of [...root.querySelectorAll(selector)]) element.remove();
  }
  for (const heading of [...root.querySelectorAll("h1,h2,h3,h4,h5,h6")]) {
    const anchor = headingAnchor(heading);
    if (anchor) heading.setAttribute("data-anchor", anchor);
  }
  const firstTable = root.querySelector("table");
  if (firstTable) addTableRows(firstTable);
  const h1 = clean(root.querySelector("h1")?.textContent ?? "");
  let markdown = "";
  try {
    // Handing turndown the parsed node avoids a second parse of the HTML (its own parser is the slow part).
    // Turndown clones its input before collapsing whitespace; this tree is ours and thrown away afterwards, so
    // skipping the clone halves the DOM work per page.
    root.cloneNode = () => root;
    markdown = turndown().turndown(root);
  } catch {
    markdown = clean(root.textContent ?? "");
  }
  return { markdown: finishMarkdown(markdown), h1 };
}

function headFacts(document: Document): { titleTag: string; canonical: string | undefined } {
  const titleTag = clean(document.querySelector("title")?.textContent ?? "");
  const canonical = canonicalUrl(document.querySelector("link[rel=canonical]")?.getAttribute("href"));
  return { titleTag, canonical };
}

/** The reference extraction: the first qualifying content root, else the whole body. */
export function extractPageDom(html: string): ExtractedPage {
  const document = parse(html);
  const { titleTag, canonical } = headFacts(document);
  const root = pickRoot(document) ?? document.body ?? document.documentElement;
  const { markdown, h1 } = rootToMarkdown(root);
  return { title: pageTitle(h1, titleTag), markdown, canonical };
}

/**
 * For pages without a known content root (blogs, vendor pages): Readability picks the article by text density
 * and link density, which leaves sidebars, link lists and comment threads out. Undefined when it finds nothing.
 */
export function extractWithReadability(html: string): ExtractedPage | undefined {
  const document = parse(html);
  const { titleTag, canonical } = headFacts(document);
  // Read before Readability rewrites the document (it drops an h1 that repeats the title).
  const documentH1 = clean(document.querySelector("h1")?.textContent ?? "");
  // Classes stay: the highlight-/language- classes name a code block's language.
  const { Readability } = dom();
  const article = new Readability<Node>(document, { keepClasses: true, serializer: (node) => node }).parse();
  const content = article?.content;
  if (!content || !isHtmlElement(content) || !(content.textContent ?? "").trim()) return undefined;
  const { markdown, h1 } = rootToMarkdown(content);
  if (!markdown) return undefined;
  return { title: pageTitle(h1 || documentH1, titleTag), markdown, canonical };
}

function isHtmlElement(node: Node): node is HTMLElement {
  return node.nodeType === 1 && "querySelectorAll" in node;
}

/** This table's own rows (`table.rows`, which leaves out the rows of a table nested in a cell). */
function ownRows(table: Element): Element[] {
  return [...table.querySelectorAll("tr")].filter((row) => row.closest("table") === table);
}

function columnCount(table: Element): number {
  return Math.max(
    0,
    ...ownRows(table).map((row) => [...row.children].filter((c) => /^T[DH]$/.test(c.nodeName)).length),
  );
}

/** turndown-plugin-gfm's test for a heading row, on the table's first row. */
function hasRowsButNoHeadingRow(table: Element): boolean {
  const first = ownRows(table)[0];
  const parent = first?.parentElement;
  if (!first || !parent) return false;
  if (parent.nodeName === "THEAD") return false;
  if (parent.firstChild !== first) return true;
  const firstTbody =
    parent.nodeName === "TBODY" &&
    (!parent.previousSibling ||
      (parent.previousSibling.nodeName === "THEAD" && /^\s*$/.test(parent.previousSibling.textContent ?? "")));
  if (!(parent.nodeName === "TABLE" || firstTbody)) return true;
  return ![...first.childNodes].every((n) => n.nodeName === "TH");
}
