/**
 * The workload packages (src/shared/workload-packages.ts) the ingest pipeline loads: checked before a command
 * starts, so a missing one is one message up front rather than a failure in a worker thread halfway through.
 */

/** Parsing and extracting HTML pages (the fast extractor's parser; the DOM extractor, loaded per page). */
export const HTML_PACKAGES = ["htmlparser2", "linkedom", "turndown", "turndown-plugin-gfm", "@mozilla/readability"];

/** Scraping adds the address checks that keep the scraper off private networks. */
export const INGEST_PACKAGES = [...HTML_PACKAGES, "ipaddr.js"];
