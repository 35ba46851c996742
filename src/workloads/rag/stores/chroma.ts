import type { ChromaClient, Collection, Metadata } from "chromadb";
import { loadWorkload } from "../../../shared/workload-packages.js";
import type { ChunkRecord } from "../chunk-record.js";
import { type DenseHit, type StoreMeta, sameMeta, type VectorRecord, type VectorStore } from "./store.js";

const PAGE = 1000;

/**
 * A Chroma collection (v3 client, cosine space, no embedding function: vectors come from our embedders).
 * Writes are batched to the server's own maximum batch size.
 */
export class ChromaStore implements VectorStore {
  readonly kind = "chroma" as const;
  readonly location: string;
  private collection: Collection | undefined;
  private maxBatch: number | undefined;

  private constructor(
    private readonly client: ChromaClient,
    private readonly name: string,
    url: string,
  ) {
    this.location = `${url} collection ${name}`;
  }

  static async connect(url: string, name: string): Promise<ChromaStore> {
    const parsed = new URL(url);
    const ssl = parsed.protocol === "https:";
    // The Chroma client is a workload package: loaded here, on first use (src/shared/workload-packages.ts).
    const { ChromaClient: Client } = await loadWorkload("--store chroma", ["chromadb"], () => import("chromadb"));
    const client = new Client({
      host: parsed.hostname,
      port: parsed.port ? Number(parsed.port) : ssl ? 443 : 80,
      ssl,
    });
    return new ChromaStore(client, name, url.replace(/\/+$/, ""));
  }

  private async existing(): Promise<Collection | undefined> {
    if (this.collection) return this.collection;
    const names = (await this.client.listCollections()).map((collection) => collection.name);
    if (!names.includes(this.name)) return undefined;
    this.collection = await this.client.getOrCreateCollection({ name: this.name, embeddingFunction: null });
    return this.collection;
  }

  private async open(): Promise<Collection> {
    const collection = await this.existing();
    if (!collection) throw new Error(`chroma collection ${this.name} does not exist (prepare() was not called)`);
    return collection;
  }

  private async batchSize(): Promise<number> {
    this.maxBatch ??= Math.max(1, Math.min(await this.client.getMaxBatchSize(), 5000));
    return this.maxBatch;
  }

  async readMeta(): Promise<StoreMeta | undefined> {
    const metadata = (await this.existing())?.metadata;
    if (!metadata) return undefined;
    const { embedder, dim, chunker } = metadata;
    if (typeof embedder === "string" && typeof dim === "number" && typeof chunker === "string") {
      return { embedder, dim, chunker };
    }
    return undefined;
  }

  async prepare(meta: StoreMeta, options: { reset: boolean }): Promise<void> {
    if (options.reset && (await this.existing())) {
      await this.client.deleteCollection({ name: this.name });
      this.collection = undefined;
    }
    const metadata = { embedder: meta.embedder, dim: meta.dim, chunker: meta.chunker };
    this.collection = await this.client.getOrCreateCollection({
      name: this.name,
      embeddingFunction: null,
      configuration: { hnsw: { space: "cosine" } },
      metadata,
    });
    // A new collection, or one built with another chunker (index-pages re-chunks it in place), gets this meta.
    const current = await this.readMeta();
    if (!current || !sameMeta(current, meta)) await this.collection.modify({ metadata });
  }

  async upsert(records: readonly VectorRecord[]): Promise<void> {
    const collection = await this.open();
    const size = await this.batchSize();
    for (let at = 0; at < records.length; at += size) {
      const batch = records.slice(at, at + size);
      await collection.upsert({
        ids: batch.map((record) => record.id),
        embeddings: batch.map((record) => Array.from(record.vector)),
        documents: batch.map((record) => record.text),
        metadatas: batch.map(toMetadata),
      });
    }
  }

  async deleteByIds(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    const collection = await this.open();
    const size = await this.batchSize();
    for (let at = 0; at < ids.length; at += size) await collection.delete({ ids: ids.slice(at, at + size) });
  }

  async listDocChunks(): Promise<Map<string, string[]>> {
    const docs = new Map<string, string[]>();
    for await (const { id, metadata } of this.scan(false)) {
      const docId = typeof metadata?.docId === "string" ? metadata.docId : "";
      const list = docs.get(docId) ?? [];
      list.push(id);
      docs.set(docId, list);
    }
    return docs;
  }

  /** Every stored chunk record: rebuilds the lexical side when the data directory has no catalog. */
  async records(): Promise<ChunkRecord[]> {
    const records: ChunkRecord[] = [];
    for await (const { id, metadata, document } of this.scan(true)) {
      if (!metadata) continue;
      const text = (key: string) => (typeof metadata[key] === "string" ? String(metadata[key]) : "");
      records.push({
        id,
        docId: text("docId"),
        url: text("url"),
        title: text("title"),
        section: text("section"),
        text: document ?? "",
        index: typeof metadata.index === "number" ? metadata.index : 0,
      });
    }
    return records;
  }

  private async *scan(
    withDocuments: boolean,
  ): AsyncGenerator<{ id: string; metadata: Metadata | null | undefined; document: string | null | undefined }> {
    const collection = await this.existing();
    if (!collection) return;
    for (let offset = 0; ; offset += PAGE) {
      const page = await collection.get({
        limit: PAGE,
        offset,
        include: withDocuments ? ["metadatas", "documents"] : ["metadatas"],
      });
      for (let i = 0; i < page.ids.length; i++) {
        yield { id: page.ids[i] ?? "", metadata: page.metadatas[i], document: page.documents[i] };
      }
      if (page.ids.length < PAGE) return;
    }
  }

  async query(vector: Float32Array, k: number): Promise<DenseHit[]> {
    const collection = await this.existing();
    if (!collection) return [];
    const result = await collection.query({
      queryEmbeddings: [Array.from(vector)],
      nResults: k,
      include: ["distances"],
    });
    const ids = result.ids[0] ?? [];
    const distances = result.distances[0] ?? [];
    // Cosine distance → similarity, so floors mean the same as for the local store.
    return ids.map((id, i) => ({ id, score: 1 - (distances[i] ?? 1) }));
  }

  async count(): Promise<number> {
    return (await (await this.existing())?.count()) ?? 0;
  }

  async flush(): Promise<void> {}

  /** Records when the last run that changed the collection finished; the meta fields are written with it. */
  async markComplete(): Promise<void> {
    const meta = await this.readMeta();
    if (!meta) return;
    const collection = await this.open();
    // The whole metadata is written: whether Chroma merges or replaces it on modify is not something to rely on.
    await collection.modify({ metadata: { ...meta, [COMPLETED_AT]: new Date().toISOString() } });
  }

  /** Read fresh, not from the collection this store opened: a reset populate deletes and recreates it. */
  async generation(): Promise<{ key: string; complete: boolean }> {
    let collection: Collection;
    try {
      collection = await this.client.getCollection({ name: this.name });
    } catch (error) {
      if (error instanceof Error && /not.?found|does not exist/i.test(`${error.name} ${error.message}`)) {
        return { key: "-", complete: false };
      }
      throw error;
    }
    const completed = collection.metadata?.[COMPLETED_AT];
    return {
      key: `${collection.id} ${typeof completed === "string" ? completed : "-"}`,
      complete: typeof completed === "string",
    };
  }
}

/** Collection metadata key: when the last populate that changed the collection finished (markComplete). */
const COMPLETED_AT = "completed_at";

function toMetadata(record: VectorRecord): Metadata {
  return {
    docId: record.docId,
    url: record.url,
    title: record.title,
    section: record.section,
    index: record.index,
  };
}
