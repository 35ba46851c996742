import { type ChunkRecord, chunkId } from "../rag/chunk-record.js";
import { type ChunkOptions, chunkMarkdown } from "./chunk.js";
import { extractPage } from "./extract.js";

/** Milliseconds spent per phase, summed over pages (and threads): what the ingest benchmark reports. */
export interface PhaseTimes {
  extract: number;
  chunk: number;
  embed: number;
}

export function noTimes(): PhaseTimes {
  return { extract: 0, chunk: 0, embed: 0 };
}

/** HTML of one page → its chunk records (ids depend on the embedder, so a new embedder never reuses vectors). */
export function pageToChunks(
  html: string,
  page: { docId: string; url: string },
  embedderId: string,
  options: ChunkOptions = {},
  times?: PhaseTimes,
): { title: string; markdown: string; records: ChunkRecord[] } {
  const started = performance.now();
  const extracted = extractPage(html);
  const extractedAt = performance.now();
  const title = extracted.title || page.docId;
  const base = page.url.replace(/#.*$/, "");
  const seen = new Set<string>();
  const records: ChunkRecord[] = [];
  for (const chunk of chunkMarkdown(title, extracted.markdown, options)) {
    const id = chunkId(embedderId, page.docId, chunk.section, chunk.text);
    // A page that repeats a passage under the same heading yields one chunk, not two rows with one id.
    if (seen.has(id)) continue;
    seen.add(id);
    records.push({
      id,
      docId: page.docId,
      url: chunk.anchor ? `${base}#${chunk.anchor}` : base,
      title,
      section: chunk.section,
      text: chunk.text,
      index: records.length,
    });
  }
  if (times) {
    times.extract += extractedAt - started;
    times.chunk += performance.now() - extractedAt;
  }
  return { title, markdown: extracted.markdown, records };
}
