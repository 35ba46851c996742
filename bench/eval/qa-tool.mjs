#!/usr/bin/env node
// Tools for writing and checking postgresql-15-qa.jsonl against the PostgreSQL 15 HTML docs.
//   node bench/eval/qa-tool.mjs text PAGE [FROM_WORD] [COUNT]  main text of a page from a word offset
//   node bench/eval/qa-tool.mjs ctx REGEX PAGE [WIDTH]          words around each match in a page
//   node bench/eval/qa-tool.mjs grep REGEX                       pages whose main text matches (count, first offset)
//   node bench/eval/qa-tool.mjs check [--table]                  verify the question file against checks.mjs
// `check` never runs the retrieval system: the set is held out from it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checks } from "./checks.mjs";
import { listPages, PG_DOCS } from "./corpus.mjs";
import { fullText, longestSharedRun, mainText, wordOffset } from "./page-text.mjs";

const QA = new URL("./postgresql-15-qa.jsonl", import.meta.url);
const KINDS = { howto: 10, fact: 8, concept: 8, troubleshoot: 7, config: 7 };
const MAX_SHARED_RUN = 4;
const DEEP_WORDS = 1000;
const MIN_DEEP = 14;
const SHORT = { count: 6, min: 3, max: 6 };
// Page classes left out of the completeness review as a whole, with the reason. Their hits are counted, not read.
const CLASS_EXCLUDED = [
  { re: /^bookindex\.html$/, why: "the alphabetical index: terms and links, never an answer" },
  { re: /^release-/, why: "release notes: one-line change entries that name a feature in passing" },
];
const classExcluded = (rel) => CLASS_EXCLUDED.some((c) => c.re.test(rel));

const cache = new Map();
function page(rel) {
  let p = cache.get(rel);
  if (!p) {
    const html = readFileSync(join(PG_DOCS, rel), "utf8");
    p = { main: mainText(html), full: fullText(html) };
    cache.set(rel, p);
  }
  return p;
}

function firstMatch(re, text) {
  const m = new RegExp(re.source, re.flags.replace("g", "")).exec(text);
  return m ? { at: wordOffset(text, m.index), text: m[0] } : null;
}

function cmdText(rel, from = "0", count = "400") {
  const words = page(rel).main.split(" ");
  const out = [`${rel}: ${words.length} words`];
  const f = Number(from);
  for (let i = f; i < Math.min(words.length, f + Number(count)); i += 40)
    out.push(`@${i} ${words.slice(i, i + 40).join(" ")}`);
  process.stdout.write(`${out.join("\n")}\n`);
}

function cmdContext(src, rel, width = "50") {
  const t = page(rel).main;
  const words = t.split(" ");
  const out = [];
  for (const m of t.matchAll(new RegExp(src, "gi"))) {
    const at = wordOffset(t, m.index);
    out.push(`@${at} ${words.slice(Math.max(0, at - 10), at + Number(width)).join(" ")}`);
  }
  process.stdout.write(`${rel} (${words.length} words)\n${out.join("\n")}\n`);
}

function cmdGrep(src) {
  const re = new RegExp(src, "gi");
  for (const rel of listPages()) {
    const t = page(rel).main;
    const all = [...t.matchAll(re)];
    if (all.length)
      process.stdout.write(`${rel}\t${all.length}\t@${wordOffset(t, all[0].index)}\t${all[0][0].slice(0, 60)}\n`);
  }
}

function readQuestions() {
  return readFileSync(QA, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => ({ line: i + 1, q: JSON.parse(l) }));
}

function cmdCheck(table) {
  const problems = [];
  const bad = (id, msg) => problems.push(`${id}: ${msg}`);
  const corpus = existsSync(PG_DOCS);
  const rows = readQuestions();
  const kinds = {};
  let deep = 0;
  let short = 0;
  const primaries = new Set();
  const allPages = new Set();
  const lines = [];
  for (const [i, { q }] of rows.entries()) {
    const id = `pg-${String(i + 1).padStart(3, "0")}`;
    if (q.id !== id) bad(q.id, `expected id ${id}`);
    const keys = Object.keys(q).join(",");
    if (keys !== "id,question,expected,kind") bad(id, `fields must be id,question,expected,kind (got ${keys})`);
    kinds[q.kind] = (kinds[q.kind] ?? 0) + 1;
    if (!Array.isArray(q.expected) || q.expected.length < 1 || q.expected.length > 4) bad(id, "1 to 4 expected pages");
    if (new Set(q.expected).size !== q.expected.length) bad(id, "duplicate expected page");
    primaries.add(q.expected[0]);
    for (const e of q.expected) allPages.add(e);
    const nWords = q.question.trim().split(/\s+/).length;
    const c = checks[id];
    if (!c) {
      bad(id, "no entry in checks.mjs");
      continue;
    }
    if (Boolean(c.short) !== (nWords >= SHORT.min && nWords <= SHORT.max))
      bad(id, `short=${Boolean(c.short)} but ${nWords} words`);
    if (c.short) short++;
    if (c.deep) deep++;
    if (q.kind === "troubleshoot" && c.error && !q.question.includes(c.error))
      bad(id, "error text not in the question");
    const checked = Object.keys(c.pages).sort().join(" ");
    if (checked !== [...q.expected].sort().join(" ")) bad(id, `checks.mjs pages (${checked}) differ from expected`);
    if (!corpus) continue;
    const cells = [];
    for (const rel of q.expected) {
      if (!existsSync(join(PG_DOCS, rel))) {
        bad(id, `${rel} does not exist`);
        continue;
      }
      const p = page(rel);
      const re = c.pages[rel];
      const m = re ? firstMatch(re, p.main) : null;
      if (!m) bad(id, `answer regex does not match ${rel}`);
      else {
        cells.push(`\`${rel}\` @${m.at}`);
        if (c.deep && m.at < DEEP_WORDS) bad(id, `deep but ${rel} answers at word ${m.at}`);
        // A deep question's key term must not turn up earlier on the page either, unless a reason says why that
        // earlier mention (a synopsis line, a table of contents) does not answer the question.
        const early = c.deep && c.term ? firstMatch(c.term, p.main) : null;
        if (early && early.at < DEEP_WORDS && !c.earlier?.[rel])
          bad(id, `deep but the term occurs in ${rel} at word ${early.at}`);
      }
      const question = c.error ? q.question.replace(c.error, " ") : q.question;
      const run = longestSharedRun(question, p.full);
      if (run.n > MAX_SHARED_RUN) bad(id, `shares ${run.n} words with ${rel}: "${run.run}"`);
    }
    if (c.term && corpus) {
      const hits = listPages().filter((rel) => new RegExp(c.term.source, c.term.flags).test(page(rel).main));
      const missing = q.expected.filter((e) => !hits.includes(e));
      if (missing.length) bad(id, `completeness term misses expected ${missing.join(", ")}`);
      const reviewed = new Set([...q.expected, ...Object.keys(c.excluded ?? {})]);
      const unreviewed = hits.filter((h) => !reviewed.has(h) && !classExcluded(h));
      const stale = Object.keys(c.excluded ?? {}).filter((e) => !hits.includes(e));
      if (stale.length) bad(id, `excluded pages the term does not match: ${stale.join(", ")}`);
      if (unreviewed.length) bad(id, `term hits not reviewed (add to expected or excluded): ${unreviewed.join(", ")}`);
      const nClass = hits.filter(classExcluded).length;
      cells.push(
        `term: ${hits.length} pages (${Object.keys(c.excluded ?? {}).length} read and left out, ${nClass} index/release notes)`,
      );
    } else bad(id, "no completeness term");
    lines.push(`| ${id} | ${cells.join("; ")} |`);
  }
  for (const [k, n] of Object.entries(KINDS))
    if (kinds[k] !== n) bad("set", `${k}: ${kinds[k] ?? 0} questions, want ${n}`);
  for (const k of Object.keys(kinds)) if (!(k in KINDS)) bad("set", `unknown kind ${k}`);
  if (rows.length !== 40) bad("set", `${rows.length} questions, want 40`);
  if (deep < MIN_DEEP) bad("set", `${deep} deep-detail questions, want >= ${MIN_DEEP}`);
  if (short !== SHORT.count) bad("set", `${short} short questions, want ${SHORT.count}`);
  if (table) process.stdout.write(`${lines.join("\n")}\n`);
  process.stdout.write(
    `${rows.length} questions; kinds ${JSON.stringify(kinds)}; deep ${deep}; short ${short}; ` +
      `${primaries.size} distinct primary pages, ${allPages.size} distinct pages; corpus ${corpus ? "present" : `ABSENT at ${PG_DOCS}: format checks only`}\n`,
  );
  for (const p of problems) process.stdout.write(`PROBLEM ${p}\n`);
  process.exitCode = problems.length ? 1 : 0;
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === "text") cmdText(...rest);
else if (cmd === "ctx") cmdContext(...rest);
else if (cmd === "grep") cmdGrep(rest[0]);
else if (cmd === "check") cmdCheck(rest.includes("--table"));
else {
  process.stderr.write(
    "usage: qa-tool.mjs text PAGE [FROM] [COUNT] | ctx REGEX PAGE [WIDTH] | grep REGEX | check [--table]\n",
  );
  process.exitCode = 2;
}
