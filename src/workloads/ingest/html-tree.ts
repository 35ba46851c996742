import { Parser } from "htmlparser2";

export const ELEMENT = 1;
export const TEXT = 3;
export const CDATA = 4;

/**
 * A minimal mutable DOM: elements, text and CDATA nodes linked to parent and siblings. It is built from the same
 * htmlparser2 events, with the same options, as linkedom builds its document, so the tree has the same shape
 * (including one text node per `ontext` event) and the Markdown conversion can follow turndown step by step.
 * Comments are not kept: turndown removes them before converting, and they are not part of textContent.
 */
export class TreeNode {
  parent: TreeNode | undefined;
  first: TreeNode | undefined;
  last: TreeNode | undefined;
  next: TreeNode | undefined;
  prev: TreeNode | undefined;
  /** Memoised textContent, only once the tree no longer changes (see freeze). */
  text: string | undefined;
  /** Whether textContent holds a non-whitespace character (set by freeze). */
  hasText = false;
  // Turndown's per-node facts, computed during conversion.
  isCode = false;
  frozen = false;
  constructor(
    readonly type: number,
    /** Upper-case tag name for elements (linkedom's nodeName), `#text` otherwise. */
    readonly name: string,
    readonly attrs: Record<string, string>,
    public data: string,
  ) {}

  attr(name: string): string | undefined {
    return this.attrs[name];
  }

  hasClass(name: string): boolean {
    const value = this.attrs.class;
    // Most elements fail the cheap substring test; only candidates are split into tokens.
    return value?.includes(name) === true && value.split(/[ \t\n\f\r]+/).includes(name);
  }

  append(child: TreeNode): void {
    child.parent = this;
    child.prev = this.last;
    child.next = undefined;
    if (this.last) this.last.next = child;
    else this.first = child;
    this.last = child;
  }

  remove(): void {
    const parent = this.parent;
    if (!parent) return;
    if (this.prev) this.prev.next = this.next;
    else parent.first = this.next;
    if (this.next) this.next.prev = this.prev;
    else parent.last = this.prev;
    this.parent = this.next = this.prev = undefined;
  }

  get firstElementChild(): TreeNode | undefined {
    let node = this.first;
    while (node && node.type !== ELEMENT) node = node.next;
    return node;
  }

  get lastElementChild(): TreeNode | undefined {
    let node = this.last;
    while (node && node.type !== ELEMENT) node = node.prev;
    return node;
  }

  get previousElementSibling(): TreeNode | undefined {
    let node = this.prev;
    while (node && node.type !== ELEMENT) node = node.prev;
    return node;
  }

  get parentElement(): TreeNode | undefined {
    return this.parent && this.parent.type === ELEMENT ? this.parent : undefined;
  }

  /** DOM textContent: text and CDATA descendants in order (memoised once frozen). */
  textContent(): string {
    if (this.type !== ELEMENT) return this.data;
    if (this.text !== undefined) return this.text;
    let out = "";
    for (let child = this.first; child; child = child.next) out += child.textContent();
    if (this.frozen) this.text = out;
    return out;
  }

  /** The first descendant element (document order) matching `test`; template contents are skipped, as linkedom does. */
  find(test: (node: TreeNode) => boolean): TreeNode | undefined {
    let node = this.first;
    while (node) {
      if (node.type === ELEMENT) {
        if (test(node)) return node;
        if (node.first && node.name !== "TEMPLATE") {
          node = node.first;
          continue;
        }
      }
      node = this.after(node);
    }
    return undefined;
  }

  /** All descendant elements matching `test`, in document order. */
  findAll(test: (node: TreeNode) => boolean): TreeNode[] {
    const found: TreeNode[] = [];
    let node = this.first;
    while (node) {
      if (node.type === ELEMENT) {
        if (test(node)) found.push(node);
        if (node.first && node.name !== "TEMPLATE") {
          node = node.first;
          continue;
        }
      }
      node = this.after(node);
    }
    return found;
  }

  /** The next node in document order after `node`'s subtree, without leaving this subtree. */
  private after(node: TreeNode): TreeNode | undefined {
    let current: TreeNode | undefined = node;
    while (current && current !== this) {
      if (current.next) return current.next;
      current = current.parent;
    }
    return undefined;
  }
}

/**
 * Marks the subtree final: textContent is memoised from now on (computed on demand) and `hasText` is set
 * bottom-up, so blank checks need no strings.
 */
export function freeze(node: TreeNode): boolean {
  node.frozen = true;
  if (node.type !== ELEMENT) {
    node.hasText = /\S/.test(node.data);
    return node.hasText;
  }
  let hasText = false;
  for (let child = node.first; child; child = child.next) if (freeze(child)) hasText = true;
  node.hasText = hasText;
  return hasText;
}

/** Parses HTML into a TreeNode document (a node named `#document`), with linkedom's parser settings. */
export function parseTree(html: string): TreeNode {
  const document = new TreeNode(9, "#document", {}, "");
  let node = document;
  let cdata = false;
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        const element = new TreeNode(ELEMENT, name.toUpperCase(), attributes, "");
        node.append(element);
        node = element;
      },
      ontext(text) {
        node.append(new TreeNode(cdata ? CDATA : TEXT, cdata ? "#cdata-section" : "#text", {}, text));
      },
      oncdatastart() {
        cdata = true;
      },
      oncdataend() {
        cdata = false;
      },
      onclosetag() {
        node = node.parent ?? document;
      },
    },
    { lowerCaseAttributeNames: false, decodeEntities: true, xmlMode: false },
  );
  parser.write(html);
  parser.end();
  return document;
}
