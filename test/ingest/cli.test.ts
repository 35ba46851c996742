import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { type DocsSite, startDocsSite } from "../../src/lab/docs-site.js";
import type { CliIo } from "../../src/shared/io.js";
import { openRetriever } from "../../src/workloads/rag/index.js";
import { SAMPLES } from "../rag/helpers.js";

function bufferIo(cwd: string, env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
    isTTY: false,
    env,
    cwd,
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}

describe("cml-lab ingest (the lab's scrape and populate jobs)", () => {
  let site: DocsSite;
  beforeAll(async () => {
    site = await startDocsSite({ root: SAMPLES });
  });
  afterAll(() => site.close());

  it("scrapes a links URL into the page cache, indexes it and the retriever answers from --data-dir", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "ingest-cli-"));
    const scrape = bufferIo(cwd, { CML_LAB_DATA: "lab-data" });
    const links = `${site.url}/html_links.txt`;
    expect(await main(["ingest", "scrape", "--links", links, "--allow-private"], scrape.io), scrape.stderr()).toBe(0);
    expect(scrape.stdout()).toMatch(new RegExp(`scrape: ${site.pages.length} of ${site.pages.length} pages kept`));

    const index = bufferIo(cwd, { CML_LAB_DATA: "lab-data" });
    expect(await main(["ingest", "index", "--store", "local"], index.io), index.stderr()).toBe(0);
    expect(index.stdout()).toMatch(/index: \d+ pages \(\d+ indexed, 0 unchanged/);
    const retriever = await openRetriever({ dataDir: join(cwd, "lab-data"), store: "local" });
    const [top] = await retriever.retrieve("how do I handle an exception with try and except");
    expect(top?.url).toMatch(new RegExp(`^${site.url}/tutorial/errors\\.html#`));

    // The populate job re-runs on every schedule: nothing changed, so nothing is embedded or written.
    const again = bufferIo(cwd, { CML_LAB_DATA: "lab-data" });
    expect(await main(["ingest", "run", "--links", links, "--allow-private"], again.io), again.stderr()).toBe(0);
    expect(again.stdout()).toMatch(/\(0 indexed, \d+ unchanged.*0 texts embedded in 0 calls/s);
    // The docs site sends validators, so the re-run fetches nothing (the lab's incremental path) ...
    expect(again.stdout()).toContain(`(${site.pages.length} not modified)`);
    // ... and the progress line shows no rate made of pages that were not fetched or indexed.
    expect(again.stdout()).not.toMatch(/pages\/s/);
  });

  it("refuses private addresses without --allow-private and fails on too many failures", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "ingest-cli-"));
    const run = bufferIo(cwd);
    const code = await main(["ingest", "scrape", "--links", `${site.url}/html_links.txt`], run.io);
    expect(code).toBe(1);
    expect(run.stderr()).toMatch(/--allow-private/);
  });

  it("reports every bad line of a links file at file:line:col in one run, and fetches nothing", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "ingest-cli-"));
    writeFileSync(
      join(cwd, "links.txt"),
      [
        "# the lab's pages",
        `${site.url}/index.html`,
        "not a url",
        "",
        "  ftp://example.test/file.html",
        `${site.url}/tutorial/index.html`,
        "mailto:someone@example.test",
      ].join("\n"),
    );
    const run = bufferIo(cwd);
    expect(await main(["ingest", "scrape", "--links", "links.txt", "--allow-private"], run.io)).toBe(1);
    expect(run.stderr()).toBe(
      "links.txt:3:1: error: not an http(s) URL: not a url\n" +
        "  links.txt:5:3: error: not an http(s) URL: ftp://example.test/file.html\n" +
        "  links.txt:7:1: error: not an http(s) URL: mailto:someone@example.test\n" +
        "  3 lines of links.txt are not http(s) URLs\n",
    );
    expect(run.stdout()).toBe("");
  });
});
