import type { CliIo } from "../../shared/io.js";
import type { IndexSummary } from "../../workloads/ingest/index-pages.js";
import type { IngestEvent } from "../../workloads/ingest/ingest.js";
import type { ScrapeSummary } from "../../workloads/ingest/scrape.js";

/**
 * Pages per second, or undefined when the number would not mean anything: nothing was worked on (pages that were
 * not modified or unchanged cost next to nothing, and 27 of them in 1.5 ms read as "18307.4 pages/s"), or less
 * than a second has passed, too short to extrapolate from.
 */
export function pageRate(worked: number, seconds: number): number | undefined {
  return worked > 0 && seconds >= 1 ? worked / seconds : undefined;
}

/**
 * Renders ingest events: a redrawn progress line (pages, chunks, rate, ETA) on a TTY, and one plain line every
 * few seconds otherwise, which is what CML job logs show.
 */
export function progressRenderer(
  io: CliIo,
  options: { intervalMs?: number; now?: () => number } = {},
): (event: IngestEvent) => void {
  const interval = options.intervalMs ?? 5_000;
  const clock = options.now ?? (() => performance.now());
  let phase = "";
  let total = 0;
  let done = 0;
  /** Pages that were fetched or indexed, the ones the rate and ETA are made of. */
  let worked = 0;
  let chunks = 0;
  let started = clock();
  let lastLine = 0;
  const line = () => {
    const rate = pageRate(worked, (clock() - started) / 1000);
    const width = 24;
    const filled = total ? Math.round((done / total) * width) : 0;
    const bar = io.isTTY ? `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ` : "";
    const speed = rate === undefined ? "" : `, ${rate.toFixed(1)} pages/s, ETA ${Math.round((total - done) / rate)}s`;
    return `${phase}: ${bar}${done}/${total} pages, ${chunks} chunks${speed}`;
  };
  const tick = (force = false) => {
    if (io.isTTY) {
      io.stdout(`\r${line()}\u001b[K`);
      return;
    }
    const now = clock();
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
        worked = 0;
        chunks = 0;
        started = clock();
        break;
      case "fetched":
        done++;
        if (event.status !== "not-modified") worked++;
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
        worked = 0;
        chunks = 0;
        started = clock();
        if (event.rechunk) {
          io.stdout(
            `index: built with chunker ${event.rechunk.from}, this is ${event.rechunk.to}: chunking every page again (only changed passages are embedded)\n`,
          );
        }
        break;
      case "page":
        done++;
        if (event.status !== "unchanged") worked++;
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
  const rate = pageRate(summary.indexed, summary.seconds);
  const lines = [
    `index: ${summary.pages} pages (${summary.indexed} indexed, ${summary.unchanged} unchanged, ` +
      `${summary.empty.length} empty, ${summary.failed.length} failed, ${summary.removedPages} removed); ` +
      `chunks +${summary.chunksAdded} -${summary.chunksDeleted} = ${summary.chunksTotal}; ` +
      `${summary.embeddedTexts} texts embedded in ${summary.embedCalls} calls; ${summary.seconds.toFixed(1)}s${rate === undefined ? "" : ` (${rate.toFixed(0)} pages/s)`}`,
  ];
  for (const docId of summary.empty) lines.push(`  empty ${docId}: no text after extraction`);
  for (const failure of summary.failed) lines.push(`  failed ${failure.docId}: ${failure.reason}`);
  return lines;
}
