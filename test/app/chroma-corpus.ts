/**
 * A small real corpus in a real Chroma server for the HTTP test: the bundled Python tutorial pages, one chunk
 * per <section>, embedded with a token-hashing embedder (no model download). Test-only stand-in for ingest.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ChromaClient } from "chromadb";
import type { RetrievedSource, Retriever } from "../../src/workloads/rag/types.js";

const DIM = 512;
const root = join(import.meta.dirname, "../../samples/python-docs/tutorial");

const text = (html: string) =>
  html
    .replace(/<(script|style)[\s\S]*?<\/\1>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/&#\d+;|&[a-z]+;/g, " ")
    .replace(/\s+/g, " ")
    .trim();

const tokens = (s: string) => (s.toLowerCase().match(/[a-z0-9_]+/g) ?? []).filter((w) => w.length > 2);

export function hashEmbed(s: string): number[] {
  const v = new Array<number>(DIM).fill(0);
  for (const token of tokens(s)) {
    let h = 2166136261;
    for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 16777619);
    const index = (h >>> 0) % DIM;
    v[index] = (v[index] ?? 0) + 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

export interface Chunk {
  id: string;
  title: string;
  section: string;
  url: string;
  text: string;
}

export function tutorialChunks(): Chunk[] {
  const chunks: Chunk[] = [];
  for (const file of readdirSync(root).filter((f) => f.endsWith(".html"))) {
    const html = readFileSync(join(root, file), "utf8");
    const title = text(/<title>([\s\S]*?)<\/title>/.exec(html)?.[1] ?? file).split(" — ")[0] ?? file;
    for (const part of html.split(/<section id="/).slice(1)) {
      const anchor = part.slice(0, part.indexOf('"'));
      const heading = text(/<h[1-6][^>]*>([\s\S]*?)<\/h[1-6]>/.exec(part)?.[1] ?? "")
        .replace(/¶$/, "")
        .trim();
      const paragraphs = [...(part.split(/<section id="/)[0]?.matchAll(/<p>([\s\S]*?)<\/p>/g) ?? [])].map((m) =>
        text(m[1] ?? ""),
      );
      const body = paragraphs.join("\n\n").slice(0, 1_500);
      if (body.length < 80) continue;
      chunks.push({
        id: `${file}#${anchor}`,
        title,
        section: heading && heading !== title ? `${title} › ${heading}` : title,
        url: `https://docs.python.org/3.11/tutorial/${file}#${anchor}`,
        text: body,
      });
    }
  }
  return chunks;
}

/** Loads the chunks into `collection` and returns a Retriever over it. */
export async function chromaRetriever(
  url: string,
  collectionName = "tutorial",
): Promise<Retriever & { chunks: number }> {
  const { hostname, port } = new URL(url);
  const client = new ChromaClient({ host: hostname, port: Number(port) });
  const collection = await client.getOrCreateCollection({
    name: collectionName,
    embeddingFunction: null,
    configuration: { hnsw: { space: "cosine" } },
  });
  const chunks = tutorialChunks();
  await collection.upsert({
    ids: chunks.map((c) => c.id),
    embeddings: chunks.map((c) => hashEmbed(`${c.section} ${c.text}`)),
    documents: chunks.map((c) => c.text),
    metadatas: chunks.map((c) => ({ title: c.title, section: c.section, url: c.url })),
  });
  return {
    chunks: chunks.length,
    describe: () => ({ store: "chroma", embedder: "test-hash-512", chunks: chunks.length }),
    async retrieve(question, options) {
      const result = await collection.query({ queryEmbeddings: [hashEmbed(question)], nResults: options?.k ?? 5 });
      const sources: RetrievedSource[] = [];
      for (const [i, row] of result.rows()[0]?.entries() ?? []) {
        const meta = row.metadata ?? {};
        sources.push({
          n: i + 1,
          docId: row.id,
          title: String(meta.title ?? ""),
          section: String(meta.section ?? ""),
          url: String(meta.url ?? ""),
          text: row.document ?? "",
          score: 1 - (row.distance ?? 1),
        });
      }
      return sources;
    },
  };
}
