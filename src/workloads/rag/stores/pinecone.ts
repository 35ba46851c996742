import { createHash } from "node:crypto";
import { type Index, Pinecone, type PineconeRecord, type RecordMetadata } from "@pinecone-database/pinecone";
import { type DenseHit, type StoreMeta, sameMeta, type VectorRecord, type VectorStore } from "./store.js";

/** Pinecone's limits: at most 1,000 records and under 2 MB per upsert; metadata under 40 KB per record. */
export const PINECONE_MAX_BATCH = 1000;
export const PINECONE_MAX_REQUEST_BYTES = 2 * 1024 * 1024;
export const PINECONE_MAX_METADATA_BYTES = 40 * 1024;
const META_ID = "__cml_lab_meta__";
const REQUEST_HEADROOM = 64 * 1024;

export interface PineconeConnection {
  apiKey: string;
  index: string;
  namespace?: string;
  /** Data-plane host; without it the SDK asks the control plane once. */
  host?: string;
  fetch?: typeof fetch;
}

/** Record ids are `<page key>#<chunk id>`, so a page's chunks can be listed by prefix. */
function docKey(docId: string): string {
  return createHash("sha256").update(docId).digest("hex").slice(0, 16);
}

/**
 * A Pinecone namespace (one per corpus and embedder). The store metadata lives in a reserved record, since
 * Pinecone has no per-namespace metadata; text travels in record metadata (truncated to stay under 40 KB).
 */
export class PineconeStore implements VectorStore {
  readonly kind = "pinecone" as const;
  readonly location: string;
  private readonly index: Index<RecordMetadata>;
  /** chunk id → Pinecone record id, learnt from listing and upserts. */
  private readonly recordIds = new Map<string, string>();
  private dim = 0;
  private readonly namespace: string;

  private constructor(connection: PineconeConnection) {
    const namespace = connection.namespace ?? "cml-lab-docs";
    this.namespace = namespace;
    const client = new Pinecone({
      apiKey: connection.apiKey,
      ...(connection.fetch ? { fetchApi: connection.fetch } : {}),
    });
    this.index = client.index({
      name: connection.index,
      namespace,
      ...(connection.host ? { host: connection.host } : {}),
    });
    this.location = `pinecone index ${connection.index} namespace ${namespace}`;
  }

  static connect(connection: PineconeConnection): PineconeStore {
    return new PineconeStore(connection);
  }

  async readMeta(): Promise<StoreMeta | undefined> {
    const fetched = await this.index.fetch({ ids: [META_ID] });
    const metadata = fetched.records[META_ID]?.metadata;
    if (!metadata) return undefined;
    const { embedder, dim, chunker } = metadata;
    if (typeof embedder === "string" && typeof dim === "number" && typeof chunker === "string") {
      this.dim = dim;
      return { embedder, dim, chunker };
    }
    return undefined;
  }

  async prepare(meta: StoreMeta, options: { reset: boolean }): Promise<void> {
    if (options.reset) await this.index.deleteAll();
    const current = options.reset ? undefined : await this.readMeta();
    this.dim = meta.dim;
    // An unchanged index gets no write at all, not even of its marker.
    if (current && sameMeta(current, meta)) return;
    const marker = new Array<number>(meta.dim).fill(0);
    marker[0] = 1; // Pinecone rejects all-zero dense vectors.
    await this.index.upsert({
      records: [
        { id: META_ID, values: marker, metadata: { embedder: meta.embedder, dim: meta.dim, chunker: meta.chunker } },
      ],
    });
  }

  async upsert(records: readonly VectorRecord[]): Promise<void> {
    let batch: PineconeRecord<RecordMetadata>[] = [];
    let bytes = 0;
    const send = async () => {
      if (batch.length) await this.index.upsert({ records: batch });
      batch = [];
      bytes = 0;
    };
    for (const record of records) {
      const id = `${docKey(record.docId)}#${record.id}`;
      const row: PineconeRecord<RecordMetadata> = {
        id,
        values: Array.from(record.vector),
        metadata: metadataOf(record),
      };
      const size = Buffer.byteLength(JSON.stringify(row));
      if (batch.length >= PINECONE_MAX_BATCH || bytes + size > PINECONE_MAX_REQUEST_BYTES - REQUEST_HEADROOM)
        await send();
      batch.push(row);
      bytes += size;
      this.recordIds.set(record.id, id);
    }
    await send();
  }

  async deleteByIds(ids: readonly string[]): Promise<void> {
    const recordIds = ids.map((id) => this.recordIds.get(id)).filter((id): id is string => id !== undefined);
    for (let at = 0; at < recordIds.length; at += PINECONE_MAX_BATCH) {
      await this.index.deleteMany({ ids: recordIds.slice(at, at + PINECONE_MAX_BATCH) });
    }
    for (const id of ids) this.recordIds.delete(id);
  }

  /**
   * Lists every record id (paginated). Keys of pages not in `knownDocIds` come back under `pinecone:<key>`, so
   * the indexer deletes them like any page that left the input.
   */
  async listDocChunks(knownDocIds: Iterable<string> = []): Promise<Map<string, string[]>> {
    const byKey = new Map<string, string>();
    for (const docId of knownDocIds) byKey.set(docKey(docId), docId);
    const docs = new Map<string, string[]>();
    let paginationToken: string | undefined;
    do {
      const page = await this.index.listPaginated({ limit: 100, ...(paginationToken ? { paginationToken } : {}) });
      for (const entry of page.vectors ?? []) {
        const id = entry.id ?? "";
        const hash = id.indexOf("#");
        if (id === META_ID || hash < 0) continue;
        const key = id.slice(0, hash);
        const chunk = id.slice(hash + 1);
        const docId = byKey.get(key) ?? `pinecone:${key}`;
        this.recordIds.set(chunk, id);
        const list = docs.get(docId) ?? [];
        list.push(chunk);
        docs.set(docId, list);
      }
      paginationToken = page.pagination?.next;
    } while (paginationToken);
    return docs;
  }

  async query(vector: Float32Array, k: number): Promise<DenseHit[]> {
    const result = await this.index.query({ vector: Array.from(vector), topK: k + 1 });
    return result.matches
      .filter((match) => match.id !== META_ID)
      .slice(0, k)
      .map((match) => ({ id: match.id.slice(match.id.indexOf("#") + 1), score: match.score ?? 0 }));
  }

  async count(): Promise<number> {
    const stats = await this.index.describeIndexStats();
    // This namespace's records less the meta record; an index holds other namespaces (other corpora, embedders).
    return Math.max(0, (stats.namespaces?.[this.namespace]?.recordCount ?? 0) - 1);
  }

  async flush(): Promise<void> {}
}

/** Record metadata without nulls, with the passage text cut so the whole stays under Pinecone's 40 KB. */
function metadataOf(record: VectorRecord): RecordMetadata {
  const base = {
    docId: record.docId,
    url: record.url,
    title: record.title,
    section: record.section,
    index: record.index,
  };
  const room = PINECONE_MAX_METADATA_BYTES - 1024 - Buffer.byteLength(JSON.stringify(base));
  let text = record.text;
  while (Buffer.byteLength(text) > room) text = text.slice(0, Math.floor(text.length * 0.9));
  return { ...base, text };
}
