import { createHash } from "node:crypto";

/** One indexed passage as every store and the lexical index hold it. */
export interface ChunkRecord {
  /** Content hash: embedder id + page + context header + text (see chunkId). */
  id: string;
  docId: string;
  /** Passage link, `url#anchor` when the section has an anchor. */
  url: string;
  title: string;
  /** `page title › section path`: the context header. */
  section: string;
  text: string;
  /** Position in the page. */
  index: number;
}

/** What the embedder and the lexical index read: the context header, then the passage. */
export function embeddingText(chunk: Pick<ChunkRecord, "section" | "text">): string {
  return `${chunk.section}\n\n${chunk.text}`;
}

/**
 * Ids are content hashes, so an unchanged passage keeps its id across runs (no embedding, no write) and a
 * different embedder never overwrites another's vectors.
 */
export function chunkId(embedderId: string, docId: string, section: string, text: string): string {
  return createHash("sha256").update(`${embedderId}\n${docId}\n${section}\n${text}`).digest("hex").slice(0, 32);
}
