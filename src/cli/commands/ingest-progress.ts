import type { CliIo } from "../../shared/io.js";
import type { IndexSummary } from "../../workloads/ingest/index-pages.js";
import type { IngestEvent } from "../../workloads/ingest/ingest.js";
import type { ScrapeSummary } from "../../workloads/ingest/scrape.js";

/**
 * Renders ingest events: a redrawn progress line (pages, chunks, rate, ETA) on a TTY, and one plain line every
 * few seconds otherwise, which is what CML job logs show.
 */
export function progressRenderer(io: CliIo, options: { intervalMs?: number } = {}): (event: IngestEvent) => void {
  const interval = options.intervalMs ?? 5_000;
  let phase = "";
  let total = 0;
  let done = 0;
  let chunks = 0;
  let started = performance.now();
  let lastLine = 0;
  const line = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
    const width = 24;
    const filled = total ? Math.round((done / total) * width) : 0;
    const bar = io.isTTY ? `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ` : "";
    return `${phase}: ${bar}${done}/${total} pages, ${chunks} chunks, ${rate.toFixed(1)} pages/s, ETA ${eta}s`;
  };
  const tick = (force = false) => {
    if (io.isTTY) {
      io.stdout(`\r${line()}\u001b[K`);
      return;
    }
    const now = performance.now();
    if (force || now - lastLine >= interval) {
      lastLine = now;
      io.stdout(`${line()}\n`);
    }
  };
  return (event) => {
    switch (event.type) {
      case "scrape-start":
        phase = "scrape";
        total = event.urls;
        done = 0;
        chunks = 0;
        started = performance.now();
        break;
      case "fetched":
        done++;
        tick();
        break;
      case "retry":
        if (!io.isTTY)
          io.stdout(`retry ${event.attempt} of ${event.url} in ${Math.round(event.waitMs)} ms: ${event.reason}\n`);
        break;
      case "scrape-done":
        if (phase === "scrape") tick(true);
        if (io.isTTY && phase === "scrape") io.stdout("\n");
        for (const line of renderScrapeSummary(event.summary)) io.stdout(`${line}\n`);
        break;
      case "index-start":
        phase = "index";
        total = event.pages;
        done = 0;
        chunks = 0;
        started = performance.now();
        if (event.rechunk) {
          io.stdout(
            `index: built with chunker ${event.rechunk.from}, this is ${event.rechunk.to}: chunking every page again (only changed passages are embedded)\n`,
          );
        }
        break;
      case "page":
        done++;
        chunks += event.chunks;
        if (event.status === "failed") io.stderr(`\nindex: ${event.docId}: ${event.reason ?? "failed"}\n`);
        tick();
        break;
      case "index-done":
        tick(true);
        if (io.isTTY) io.stdout("\n");
        for (const line of renderIndexSummary(event.summary)) io.stdout(`${line}\n`);
        break;
    }
  };
}

export function renderScrapeSummary(summary: ScrapeSummary): string[] {
  const lines = [
    `scrape: ${summary.kept} of ${summary.urls} pages kept (${summary.notModified} not modified), ` +
      `${summary.failures.length} failed, ${summary.removed} removed, ${summary.seconds.toFixed(1)}s`,
  ];
  for (const failure of summary.failures) lines.push(`  failed ${failure.url}: ${failure.reason}`);
  return lines;
}

export function renderIndexSummary(summary: IndexSummary): string[] {
  const rate = summary.seconds > 0 ? summary.pages / summary.seconds : 0;
  const lines = [
    `index: ${summary.pages} pages (${summary.indexed} indexed, ${summary.unchanged} unchanged, ` +
      `${summary.empty.length} empty, ${summary.failed.length} failed, ${summary.removedPages} removed); ` +
      `chunks +${summary.chunksAdded} -${summary.chunksDeleted} = ${summary.chunksTotal}; ` +
      `${summary.embeddedTexts} texts embedded in ${summary.embedCalls} calls; ${summary.seconds.toFixed(1)}s (${rate.toFixed(0)} pages/s)`,
  ];
  for (const docId of summary.empty) lines.push(`  empty ${docId}: no text after extraction`);
  for (const failure of summary.failed) lines.push(`  failed ${failure.docId}: ${failure.reason}`);
  return lines;
}
