import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomicSync } from "../../shared/atomic-write.js";
import { isJsonObject, shapeOf } from "../../shared/json-shape.js";
import type { ChunkRecord } from "./chunk-record.js";
import type { StoreMeta } from "./stores/store.js";

/** Per page: the sha256 of the HTML it was indexed from and its chunk ids, so unchanged pages are skipped unread. */
export interface CatalogDoc {
  pageSha: string;
  ids: string[];
}

/**
 * The chunk records of one index, kept in the data directory next to (or, for the local store, as part of) the
 * dense store: the lexical index is rebuilt from it at start-up and the indexer uses its page hashes to skip
 * unchanged pages without extracting them. Files: meta.json, docs.json, chunks.jsonl; writes are atomic renames.
 */
export class ChunkCatalog {
  readonly dir: string;
  meta: StoreMeta | undefined;
  docs = new Map<string, CatalogDoc>();
  private records: Map<string, ChunkRecord> | undefined;
  private dirty = false;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Opens the catalog reading only its small files; chunk records load on first use. */
  static open(dir: string): ChunkCatalog {
    const catalog = new ChunkCatalog(dir);
    const metaFile = join(dir, "meta.json");
    if (existsSync(metaFile)) catalog.meta = parseMeta(readFileSync(metaFile, "utf8"), metaFile);
    const docsFile = join(dir, "docs.json");
    if (existsSync(docsFile)) {
      const parsed: unknown = JSON.parse(readFileSync(docsFile, "utf8"));
      if (isJsonObject(parsed)) {
        for (const [docId, value] of Object.entries(parsed)) {
          if (isCatalogDoc(value)) catalog.docs.set(docId, value);
        }
      }
    }
    return catalog;
  }

  get exists(): boolean {
    return this.meta !== undefined;
  }

  chunks(): Map<string, ChunkRecord> {
    if (this.records) return this.records;
    const records = new Map<string, ChunkRecord>();
    const file = join(this.dir, "chunks.jsonl");
    if (existsSync(file)) {
      for (const line of readFileSync(file, "utf8").split("\n")) {
        if (!line) continue;
        const record: unknown = JSON.parse(line);
        if (isChunkRecord(record)) records.set(record.id, record);
      }
    }
    this.records = records;
    return records;
  }

  reset(meta: StoreMeta): void {
    this.meta = meta;
    this.docs = new Map();
    this.records = new Map();
    this.dirty = true;
  }

  setDoc(docId: string, pageSha: string, records: readonly ChunkRecord[]): void {
    const all = this.chunks();
    for (const id of this.docs.get(docId)?.ids ?? []) all.delete(id);
    for (const record of records) all.set(record.id, record);
    this.docs.set(docId, { pageSha, ids: records.map((record) => record.id) });
    this.dirty = true;
  }

  removeDoc(docId: string): void {
    const all = this.chunks();
    for (const id of this.docs.get(docId)?.ids ?? []) all.delete(id);
    this.docs.delete(docId);
    this.dirty = true;
  }

  save(): void {
    if (!this.dirty || !this.meta) return;
    mkdirSync(this.dir, { recursive: true });
    const records = this.chunks();
    let jsonl = "";
    for (const record of records.values()) jsonl += `${JSON.stringify(record)}\n`;
    writeFileAtomicSync(join(this.dir, "chunks.jsonl"), jsonl);
    writeFileAtomicSync(join(this.dir, "docs.json"), JSON.stringify(Object.fromEntries(this.docs)));
    writeFileAtomicSync(join(this.dir, "meta.json"), `${JSON.stringify(this.meta, null, 2)}\n`);
    this.dirty = false;
  }
}

function parseMeta(text: string, file: string): StoreMeta {
  const value: unknown = JSON.parse(text);
  if (isStoreMeta(value)) return { embedder: value.embedder, dim: value.dim, chunker: value.chunker };
  throw new Error(`${file}: not an index metadata file (${isStoreMeta.describe()})`);
}

const isCatalogDoc = shapeOf<CatalogDoc>({
  type: "object",
  properties: { pageSha: { type: "string" }, ids: { type: "array", items: { type: "string" } } },
  required: ["pageSha", "ids"],
});

const isChunkRecord = shapeOf<ChunkRecord>({
  type: "object",
  properties: { id: { type: "string" }, docId: { type: "string" }, text: { type: "string" } },
  required: ["id", "docId", "text"],
});

const isStoreMeta = shapeOf<StoreMeta>({
  type: "object",
  properties: { embedder: { type: "string" }, dim: { type: "integer", minimum: 1 }, chunker: { type: "string" } },
  required: ["embedder", "dim", "chunker"],
});
