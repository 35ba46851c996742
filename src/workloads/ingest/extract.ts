import {
  canonicalUrl,
  clean,
  DROP_SELECTORS,
  type ExtractedPage,
  finishMarkdown,
  MIN_ROOT_CHARS,
  pageTitle,
  ROOT_SELECTORS,
  simpleSelector,
} from "./content-rules.js";
import { extractPageDom, extractWithReadability } from "./extract-dom.js";
import { ELEMENT, parseTree, type TreeNode } from "./html-tree.js";
import { treeToMarkdown } from "./tree-markdown.js";

export type { ExtractedPage };

const ROOTS = ROOT_SELECTORS.map(simpleSelector);
const DROPS = DROP_SELECTORS.map(simpleSelector);
const HEADINGS = new Set(["H1", "H2", "H3", "H4", "H5", "H6"]);

const isHeading = (node: TreeNode) => HEADINGS.has(node.name);
const isDropped = (node: TreeNode) => DROPS.some((test) => test(node));

/**
 * HTML → main content as Markdown. Never throws on bad markup: an unparseable or empty page yields an empty
 * Markdown string, which the indexer reports and skips.
 *
 * One htmlparser2 pass builds a light tree; the first content root that qualifies (ROOT_SELECTORS) is cleaned
 * and converted by tree-markdown.ts. A page without any known root goes to Readability on a full DOM, and a page
 * Readability finds nothing in is converted whole.
 */
export function extractPage(html: string): ExtractedPage {
  const document = parseTree(html.includes("<html") ? html : `<!doctype html><html><body>${html}</body></html>`);
  const root = pickRoot(document);
  if (!root) return extractWithReadability(html) ?? extractPageDom(html);
  const titleTag = clean(document.find((node) => node.name === "TITLE")?.textContent() ?? "");
  const link = document.find((node) => node.name === "LINK" && node.attrs.rel?.toLowerCase() === "canonical");
  const canonical = canonicalUrl(link?.attrs.href);
  dropFurniture(root);
  for (const heading of root.findAll(isHeading)) {
    const anchor = headingAnchor(heading);
    if (anchor) heading.attrs["data-anchor"] = anchor;
  }
  const h1 = clean(root.find((node) => node.name === "H1")?.textContent() ?? "");
  let markdown: string;
  try {
    markdown = treeToMarkdown(root);
  } catch {
    // Where turndown gives up (a table without rows), so does the port: the page is kept as plain text.
    markdown = clean(root.textContent());
  }
  return { title: pageTitle(h1, titleTag), markdown: finishMarkdown(markdown), canonical };
}

/**
 * The first known content root with enough text; else the first one with any text (a short page of a known
 * generator: its container is still the right one, where Readability tends to pick the longer footer).
 */
function pickRoot(document: TreeNode): TreeNode | undefined {
  let short: TreeNode | undefined;
  for (const test of ROOTS) {
    const candidate = document.find(test);
    if (!candidate) continue;
    const length = candidate.textContent().trim().length;
    if (length >= MIN_ROOT_CHARS) return candidate;
    if (length > 0) short ??= candidate;
  }
  return short;
}

/** Removes every descendant of `root` that matches a DROP_SELECTORS entry, with its subtree. */
function dropFurniture(root: TreeNode): void {
  let node = root.first;
  while (node) {
    if (node.type === ELEMENT && isDropped(node)) {
      const following = afterSubtree(node, root);
      node.remove();
      node = following;
    } else {
      node = node.type === ELEMENT && node.first ? node.first : afterSubtree(node, root);
    }
  }
}

function afterSubtree(node: TreeNode, root: TreeNode): TreeNode | undefined {
  let current: TreeNode | undefined = node;
  while (current && current !== root) {
    if (current.next) return current.next;
    current = current.parent;
  }
  return undefined;
}

/** The anchor a reader lands on for this heading: its id, its section's id, or the id just before it. */
function headingAnchor(heading: TreeNode): string | undefined {
  if (heading.attrs.id) return heading.attrs.id;
  const parent = heading.parentElement;
  const parentId = parent?.attrs.id;
  if (parent && parentId && parent.firstElementChild === heading) return parentId;
  if (parent && parentId && (parent.name === "SECTION" || parent.name === "DIV")) {
    if (parent.find(isHeading) === heading) return parentId;
  }
  const previous = heading.previousElementSibling;
  if (previous?.attrs.id && !previous.textContent().trim()) return previous.attrs.id;
  const link = heading.find(
    (node) => node.name === "A" && (node.hasClass("headerlink") || (node.attrs.href ?? "").startsWith("#")),
  );
  const href = link?.attrs.href;
  return href?.startsWith("#") && href.length > 1 ? href.slice(1) : undefined;
}
