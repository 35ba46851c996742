import { createHash } from "node:crypto";
import {
  type Index,
  type IndexModel,
  Pinecone,
  type PineconeRecord,
  type RecordMetadata,
} from "@pinecone-database/pinecone";
import { waitFor } from "../../../client/wait.js";
import { UserError } from "../../../shared/errors.js";
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
  /** Where a missing index is created (serverless); defaults below, from PINECONE_CLOUD / PINECONE_REGION. */
  cloud?: string;
  region?: string;
  /** Bound on the wait for a new index to become ready (default 5 minutes). */
  readyTimeoutMs?: number;
  readyIntervalMs?: number;
  fetch?: typeof fetch;
}

/** Pinecone's free (Starter) plan creates serverless indexes only in aws/us-east-1. */
export const PINECONE_DEFAULT_CLOUD = "aws";
export const PINECONE_DEFAULT_REGION = "us-east-1";
/** The metric the retriever's scores assume (vectors are L2-normalised; hybrid fusion reads cosine scores). */
const METRIC = "cosine";

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
  private readonly client: Pinecone;
  private readonly connection: PineconeConnection;
  /** The index's description, once read: undefined = not asked yet, null = the index does not exist. */
  private model: IndexModel | null | undefined;
  /** chunk id → Pinecone record id, learnt from listing and upserts. */
  private readonly recordIds = new Map<string, string>();
  private dim = 0;
  private readonly namespace: string;

  private constructor(connection: PineconeConnection) {
    const namespace = connection.namespace ?? "cml-lab-docs";
    this.namespace = namespace;
    this.connection = connection;
    const client = new Pinecone({
      apiKey: connection.apiKey,
      ...(connection.fetch ? { fetchApi: connection.fetch } : {}),
    });
    this.client = client;
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

  /** The index's description from the control plane (cached); null when the index does not exist. */
  private async describe(refresh = false): Promise<IndexModel | null> {
    if (this.model !== undefined && !refresh) return this.model;
    try {
      this.model = await this.client.describeIndex(this.connection.index);
    } catch (error) {
      if (!(error instanceof Error && error.name === "PineconeNotFoundError")) throw pineconeError(error);
      this.model = null;
    }
    return this.model;
  }

  /**
   * Makes sure the index exists with the embedder's dimension and the cosine metric, before anything is
   * written: a missing index is created (serverless, cloud and region from the connection) and awaited until
   * ready; an existing one of another shape stops the run with both values and the fix.
   */
  private async ensureIndex(dim: number, embedder?: string): Promise<void> {
    let model = await this.describe();
    if (!model) {
      const cloud = this.connection.cloud || PINECONE_DEFAULT_CLOUD;
      const region = this.connection.region || PINECONE_DEFAULT_REGION;
      if (cloud !== "aws" && cloud !== "gcp" && cloud !== "azure") {
        throw new UserError(`PINECONE_CLOUD must be aws, gcp or azure, not ${cloud}`);
      }
      try {
        await this.client.createIndex({
          name: this.connection.index,
          dimension: dim,
          metric: METRIC,
          spec: { serverless: { cloud, region } },
          // Another populate run may create it at the same moment; its shape is checked below either way.
          suppressConflicts: true,
        });
      } catch (error) {
        throw pineconeError(error);
      }
      model = await waitFor(() => this.describe(true), {
        what: `Pinecone index ${this.connection.index} (${cloud}/${region}) to be ready`,
        status: (value) => value?.status?.state ?? "absent",
        until: (value) => value?.status?.ready === true,
        failWhen: (value) =>
          value?.status?.state === "InitializationFailed" ? "Pinecone could not initialise the index" : undefined,
        timeoutMs: this.connection.readyTimeoutMs ?? 5 * 60_000,
        intervalMs: this.connection.readyIntervalMs ?? 2_000,
      });
    }
    if (model) this.assertShape(model, dim, embedder);
  }

  private assertShape(model: IndexModel, dim: number, embedder?: string): void {
    if (model.dimension === dim && model.metric === METRIC) return;
    throw shapeMismatch(this.connection.index, { dimension: model.dimension, metric: model.metric }, dim, embedder);
  }

  async assertFits(embedder: { id: string; dim: number }): Promise<void> {
    const model = await this.describe();
    if (model) this.assertShape(model, embedder.dim, embedder.id);
  }

  async readMeta(): Promise<StoreMeta | undefined> {
    // A missing index has no metadata; `prepare` creates it, a query says there is no index.
    if (!(await this.describe())) return undefined;
    const fetched = await this.index.fetch({ ids: [META_ID] }).catch((error: unknown) => {
      throw pineconeError(error);
    });
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
    await this.ensureIndex(meta.dim, meta.embedder);
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
      if (batch.length)
        await this.index.upsert({ records: batch }).catch((error: unknown) => {
          throw pineconeError(error);
        });
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
    const model = await this.describe();
    if (!model) {
      throw new UserError(`Pinecone index ${this.connection.index} does not exist`, {
        notes: ["build it: cml-lab ingest index --store pinecone (the populate-pinecone job) creates it"],
      });
    }
    this.assertShape(model, vector.length);
    const result = await this.index.query({ vector: Array.from(vector), topK: k + 1 }).catch((error: unknown) => {
      throw pineconeError(error);
    });
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

function shapeMismatch(
  index: string,
  found: { dimension: number | undefined; metric: string },
  dim: number,
  embedder?: string,
): UserError {
  const by = embedder ? ` (embedder ${embedder})` : "";
  return new UserError(
    `Pinecone index ${index} has dimension ${found.dimension ?? "unknown"} and metric ${found.metric}, ` +
      `but this run needs dimension ${dim} and metric ${METRIC}${by}`,
    {
      notes: [
        "nothing was written; either",
        `- name a new index (PINECONE_INDEX, or deploy --var pinecone_index=<name>) and cml-lab creates it with dimension ${dim}`,
        `- or use an embedder that makes ${found.dimension ?? "that many"}-dimension vectors (--embedder)`,
        `- or delete index ${index} in the Pinecone console and run again`,
      ],
    },
  );
}

/**
 * The SDK's errors that are the user's to fix, as one line each: a rejected key, and the data plane's 400
 * for a vector of the wrong dimension (an index changed under a running app). Anything else passes through.
 */
function pineconeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (error.name === "PineconeAuthorizationError") {
    return new UserError("Pinecone rejected the API key (401): check PINECONE_API_KEY", { cause: error });
  }
  const mismatch = /Vector dimension (\d+) does not match the dimension of the index (\d+)/.exec(error.message);
  if (error.name === "PineconeBadRequestError" && mismatch) {
    return new UserError(
      `Pinecone index has dimension ${mismatch[2]}, but the vectors sent have dimension ${mismatch[1]}`,
      { cause: error, notes: ["use the embedder the index was built with, or rebuild it (cml-lab ingest index)"] },
    );
  }
  return error;
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
