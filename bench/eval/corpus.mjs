#!/usr/bin/env node
// Locates (and with --install, installs) the PostgreSQL 15 HTML documentation used by postgresql-15-qa.jsonl,
// then prints its page count and a checksum of the sorted file list so a run can show it used the same corpus.
// The corpus is not committed: it comes from the Debian bookworm package postgresql-doc-15.
//   node bench/eval/corpus.mjs [--install] [--contents]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const PG_DOCS = process.env.PG_DOCS ?? "/usr/share/doc/postgresql-doc-15/html";

/** Sorted .html paths relative to the corpus root (the layout is flat; recurse anyway to notice a change). */
export function listPages(root = PG_DOCS) {
  const out = [];
  const walk = (dir, rel) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(dir, e.name), r);
      else if (e.name.endsWith(".html")) out.push(r);
    }
  };
  walk(root, "");
  return out.sort();
}

function packageVersion() {
  try {
    return execFileSync("dpkg-query", ["-W", "-f=$" + "{Version}", "postgresql-doc-15"], { encoding: "utf8" });
  } catch {
    return "unknown (dpkg-query failed)";
  }
}

async function main() {
  const args = new Set(process.argv.slice(2));
  if (!existsSync(PG_DOCS)) {
    if (!args.has("--install")) {
      process.stderr.write(
        `${PG_DOCS} not found; run with --install (apt-get install postgresql-doc-15) or set PG_DOCS\n`,
      );
      process.exit(1);
    }
    execFileSync("apt-get", ["update"], { stdio: "inherit" });
    execFileSync("apt-get", ["install", "-y", "postgresql-doc-15"], { stdio: "inherit" });
  }
  const pages = listPages();
  const listSha = createHash("sha256")
    .update(`${pages.join("\n")}\n`)
    .digest("hex");
  process.stdout.write(`corpus: ${PG_DOCS}\npackage: postgresql-doc-15 ${packageVersion()}\n`);
  process.stdout.write(`pages: ${pages.length}\nfile-list sha256: ${listSha}\n`);
  if (args.has("--contents")) {
    // Content hash too: a Debian point release (15.x) changes text without changing the file list.
    const h = createHash("sha256");
    for (const p of pages)
      h.update(p)
        .update("\0")
        .update(readFileSync(join(PG_DOCS, p)))
        .update("\0");
    process.stdout.write(`contents sha256: ${h.digest("hex")}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
