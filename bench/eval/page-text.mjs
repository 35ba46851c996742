// Plain-text views of a PostgreSQL (DocBook XSL) HTML page, used only by the eval-set checks.
// Dependency-free on purpose: the checks must not share code with the retrieval system they measure.

const NAMED = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  ndash: "–",
  mdash: "—",
  hellip: "…",
  copy: "©",
};

function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) => {
    if (e[0] === "#") {
      const code = e[1] === "x" || e[1] === "X" ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : m;
    }
    return NAMED[e.toLowerCase()] ?? m;
  });
}

function stripTags(html) {
  const noCode = html.replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, " ").replace(/<!--[\s\S]*?-->/g, " ");
  return decodeEntities(noCode.replace(/<[^>]+>/g, " "))
    .replace(/\s+/g, " ")
    .trim();
}

/** Whole page text (title, navigation and all), collapsed whitespace. */
export function fullText(html) {
  return stripTags(html);
}

/**
 * Main text: what lies between the navigation header and the navigation footer. On these pages that is the
 * page's own content; chapter and section pages keep their in-page table of contents, which is part of the content.
 */
export function mainText(html) {
  const header = /<div class="navheader">[\s\S]*?<hr \/><\/div>/.exec(html);
  const start = header ? header.index + header[0].length : 0;
  const footer = html.indexOf('<div class="navfooter">');
  return stripTags(html.slice(start, footer >= 0 ? footer : html.length));
}

/** Number of whitespace-separated words before character index `at` of collapsed text. */
export function wordOffset(text, at) {
  const before = text.slice(0, at).trim();
  return before === "" ? 0 : before.split(" ").length;
}

/** Lower-cased runs of letters and digits: the unit of the lexical-overlap check. */
export function tokens(text) {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Longest run of consecutive tokens of `question` that also occurs consecutively in `page`. */
export function longestSharedRun(question, page) {
  const q = tokens(question);
  const p = tokens(page);
  let best = { n: 0, run: "" };
  for (let n = 1; n <= q.length; n++) {
    const set = new Set();
    for (let i = 0; i + n <= p.length; i++) set.add(p.slice(i, i + n).join(" "));
    let found = false;
    for (let i = 0; i + n <= q.length; i++) {
      const g = q.slice(i, i + n).join(" ");
      if (set.has(g)) {
        found = true;
        best = { n, run: g };
        break;
      }
    }
    if (!found) break;
  }
  return best;
}
