import { parseHTML } from "linkedom";
import TurndownService from "turndown";
import { gfm } from "turndown-plugin-gfm";

/** A page reduced to its main content, as Markdown with heading anchors (`## Heading {#anchor}`). */
export interface ExtractedPage {
  title: string;
  markdown: string;
  /** `<link rel=canonical>` when it is an http(s) URL. */
  canonical: string | undefined;
}

/**
 * Content roots tried in order; the first that holds a reasonable amount of text wins. Doc generators
 * (Sphinx, MkDocs, Docusaurus, GitBook, DITA) put the article in one of these.
 */
const ROOT_SELECTORS = [
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
];

/** Page furniture: navigation, chrome and anything that is not prose for a reader. */
const DROP_SELECTORS = [
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

const MIN_ROOT_CHARS = 200;

let converter: TurndownService | undefined;

function turndown(): TurndownService {
  if (converter) return converter;
  const service = new TurndownService({
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
  // Sphinx and many generators emit <pre> without an inner <code>; turndown only fences pre>code.
  service.addRule("bare-pre", {
    filter: (node) => node.nodeName === "PRE" && !node.querySelector("code"),
    replacement: (_content, node) => {
      const text = (node.textContent ?? "").replace(/\n+$/, "");
      const language = codeLanguage(node);
      return `\n\n\`\`\`${language}\n${text}\n\`\`\`\n\n`;
    },
  });
  converter = service;
  return service;
}

function codeLanguage(node: TurndownService.Node): string {
  let element: Element | null = node instanceof Object && "parentElement" in node ? node.parentElement : null;
  for (let depth = 0; element && depth < 3; depth++, element = element.parentElement) {
    const match = /(?:^|\s)(?:highlight|language|lang)-([\w+-]+)/.exec(element.getAttribute("class") ?? "");
    if (match?.[1] && match[1] !== "default") return match[1].replace(/\d+$/, "");
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

function pickRoot(document: Document): HTMLElement {
  for (const selector of ROOT_SELECTORS) {
    const candidate = document.querySelector<HTMLElement>(selector);
    if (candidate && (candidate.textContent ?? "").trim().length >= MIN_ROOT_CHARS) return candidate;
  }
  return document.body ?? document.documentElement;
}

function clean(text: string): string {
  return text
    .replace(/[\u00b6\u200b]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * HTML → main content as Markdown. Never throws on bad markup: an unparseable or empty page yields an empty
 * Markdown string, which the indexer reports and skips.
 */
export function extractPage(html: string): ExtractedPage {
  const { document } = parseHTML(html.includes("<html") ? html : `<!doctype html><html><body>${html}</body></html>`);
  const titleTag = clean(document.querySelector("title")?.textContent ?? "");
  const canonicalHref = document.querySelector("link[rel=canonical]")?.getAttribute("href") ?? undefined;
  const canonical = canonicalHref && /^https?:\/\//i.test(canonicalHref) ? canonicalHref : undefined;
  const root = pickRoot(document);
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
  // `<title>` usually carries a site suffix ("X — Python 3.11 documentation"); h1 is the page's own name.
  const title = h1 || titleTag.split(/\s+[|\u2014\u2013-]\s+/)[0] || titleTag;
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
  markdown = markdown
    .normalize("NFKC")
    .replace(/\r\n?/g, "\n")
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return { title: title.normalize("NFKC"), markdown, canonical };
}
