// Markdown-ish rendering into DOM nodes. Model and document text only ever becomes text nodes or
// attributes set through the DOM API (never innerHTML), so <script> or onerror= in a source stays text.

/** True for absolute http(s) URLs: the only links the UI makes clickable. */
export function safeHttpUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

// A Markdown link or image as the extractor writes them: [label](destination "title"), destination maybe in <>.
const MD_LINK = /(!?)\[([^\]\n]*)\]\((<[^>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+"(?:[^"\\]|\\.)*")?\)/g;
// A backslash before ASCII punctuation is a Markdown escape.
const MD_ESCAPE = /\\([!-/:-@[-`{-~])/g;

/**
 * A source passage made readable: links resolved against the page they come from (titles dropped; only what
 * resolves to http(s) stays a link), images as their alt text, escapes removed.
 */
export function readableSource(text, baseUrl) {
  return text
    .replace(MD_LINK, (_whole, bang, label, destination) => {
      if (bang) return label;
      let href = null;
      try {
        href = safeHttpUrl(new URL(destination.replace(/^<|>$/g, ""), baseUrl).href);
      } catch {
        href = null;
      }
      // renderInline's link pattern takes no spaces or parentheses in the URL.
      return href && !/[()\s]/.test(href) ? `[${label}](${href})` : label;
    })
    .replace(MD_ESCAPE, "$1");
}

const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\[\d{1,3}\])|(\[[^\]\n]+\]\([^)\s]+\))|(\*[^*\n]+\*)/g;

/**
 * Renders one line's inline markup: `code`, **bold**, *em*, [n] citations (only with onCite: in a source's own
 * text `[1]` is an index, not a citation), [text](http-url) links.
 */
export function renderInline(doc, parent, text, onCite) {
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) parent.append(doc.createTextNode(text.slice(last, match.index)));
    const [whole, code, bold, cite, link, em] = match;
    if (code) {
      const el = doc.createElement("code");
      el.textContent = code.slice(1, -1);
      parent.append(el);
    } else if (bold) {
      const el = doc.createElement("strong");
      el.textContent = bold.slice(2, -2);
      parent.append(el);
    } else if (cite && !onCite) {
      parent.append(doc.createTextNode(whole));
    } else if (cite) {
      const n = Number(cite.slice(1, -1));
      const a = doc.createElement("a");
      a.className = "cite";
      a.href = `#source-${n}`;
      a.textContent = `[${n}]`;
      a.dataset.n = String(n);
      a.setAttribute("aria-label", `source ${n}`);
      a.addEventListener("click", (event) => {
        event.preventDefault();
        onCite(n);
      });
      parent.append(a);
    } else if (link) {
      const label = link.slice(1, link.indexOf("]("));
      const href = safeHttpUrl(link.slice(link.indexOf("](") + 2, -1));
      if (href) {
        const a = doc.createElement("a");
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        // A link to an API name is written [`name`](url): show it as code inside the link.
        if (/^`[^`]+`$/.test(label)) {
          const code = doc.createElement("code");
          code.textContent = label.slice(1, -1);
          a.append(code);
        } else {
          a.textContent = label;
        }
        parent.append(a);
      } else {
        parent.append(doc.createTextNode(whole));
      }
    } else if (em) {
      const el = doc.createElement("em");
      el.textContent = em.slice(1, -1);
      parent.append(el);
    }
    last = match.index + whole.length;
  }
  if (last < text.length) parent.append(doc.createTextNode(text.slice(last)));
}

/** Block structure: fenced code, headings, bullet and numbered lists, paragraphs. */
export function renderMarkdown(doc, text, onCite) {
  const root = doc.createDocumentFragment();
  const lines = text.split("\n");
  let paragraph = null;
  let list = null;
  const endBlocks = () => {
    paragraph = null;
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("```")) {
      endBlocks();
      const code = [];
      i++;
      while (i < lines.length && !lines[i].startsWith("```")) code.push(lines[i++]);
      const pre = doc.createElement("pre");
      const el = doc.createElement("code");
      el.textContent = code.join("\n");
      pre.append(el);
      root.append(pre);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (line.trim() === "") {
      endBlocks();
    } else if (heading) {
      endBlocks();
      const el = doc.createElement("h4");
      renderInline(doc, el, heading[2], onCite);
      root.append(el);
    } else if (bullet || numbered) {
      const tag = bullet ? "UL" : "OL";
      if (!list || list.tagName !== tag) {
        list = doc.createElement(tag.toLowerCase());
        root.append(list);
      }
      paragraph = null;
      const item = doc.createElement("li");
      renderInline(doc, item, (bullet ?? numbered)[1], onCite);
      list.append(item);
    } else {
      list = null;
      if (!paragraph) {
        paragraph = doc.createElement("p");
        root.append(paragraph);
      } else {
        paragraph.append(doc.createElement("br"));
      }
      renderInline(doc, paragraph, line, onCite);
    }
  }
  return root;
}
