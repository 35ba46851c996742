// Compares the fast extractor (htmlparser2 tree + turndown port) with the DOM one (linkedom + turndown) on every
// HTML file under a directory: byte-identical pages, the differing ones with their first difference, and times.
// Usage: npm run build && node bench/ingest/compare-extract.mjs [corpus-dir] [--show N]
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { extractPage } from "../../dist/workloads/ingest/extract.js";
import { extractPageDom } from "../../dist/workloads/ingest/extract-dom.js";

const corpus = process.argv[2] ?? "../shared/eval/corpus/python-3.11";
const showAt = process.argv.indexOf("--show");
const show = showAt >= 0 ? Number(process.argv[showAt + 1]) : 20;
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (/\.html?$/i.test(entry.name)) files.push(path);
  }
};
walk(corpus);
files.sort();

let fastMs = 0;
let domMs = 0;
const differing = [];
for (const file of files) {
  const html = readFileSync(file, "utf8");
  let started = performance.now();
  const fast = extractPage(html);
  fastMs += performance.now() - started;
  started = performance.now();
  const dom = extractPageDom(html);
  domMs += performance.now() - started;
  const fields = ["title", "canonical", "markdown"].filter((field) => fast[field] !== dom[field]);
  if (fields.length) {
    const a = dom.markdown;
    const b = fast.markdown;
    let at = 0;
    while (at < a.length && a[at] === b[at]) at++;
    differing.push({
      page: relative(corpus, file),
      fields,
      lengths: [a.length, b.length],
      dom: JSON.stringify(a.slice(Math.max(0, at - 60), at + 80)),
      fast: JSON.stringify(b.slice(Math.max(0, at - 60), at + 80)),
    });
  }
}
process.stdout.write(
  `${JSON.stringify(
    {
      pages: files.length,
      identical: files.length - differing.length,
      differing: differing.length,
      seconds: { fast: Number((fastMs / 1000).toFixed(2)), dom: Number((domMs / 1000).toFixed(2)) },
      examples: differing.slice(0, show),
    },
    null,
    2,
  )}\n`,
);
