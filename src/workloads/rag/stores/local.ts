import { existsSync, readFileSync } from "node:fs";
import { endianness } from "node:os";
import { join } from "node:path";
import { writeFileAtomicSync } from "../../../shared/atomic-write.js";
import type { ChunkCatalog } from "../catalog.js";
import type { DenseHit, StoreMeta, VectorRecord, VectorStore } from "./store.js";

const ID_BYTES = 32;

/**
 * The laptop default and the eval's store: the chunk catalog plus `vectors.bin` (fixed-size rows of a 32-byte
 * hex id and `dim` float32 values) in the same directory, searched by brute force. Writes are buffered and
 * persisted by flush().
 */
export class LocalStore implements VectorStore {
  readonly kind = "local" as const;
  readonly location: string;
  private vectors: Map<string, Float32Array> | undefined;
  private dirty = false;
  private matrix: { ids: string[]; data: Float32Array; dim: number } | undefined;

  constructor(private readonly catalog: ChunkCatalog) {
    this.location = catalog.dir;
  }

  async readMeta(): Promise<StoreMeta | undefined> {
    return this.catalog.meta;
  }

  async prepare(meta: StoreMeta, options: { reset: boolean }): Promise<void> {
    if (options.reset || !this.catalog.meta) {
      this.catalog.reset(meta);
      this.vectors = new Map();
      this.dirty = true;
    }
  }

  private load(): Map<string, Float32Array> {
    if (this.vectors) return this.vectors;
    const vectors = new Map<string, Float32Array>();
    const file = join(this.catalog.dir, "vectors.bin");
    const dim = this.catalog.meta?.dim ?? 0;
    if (dim > 0 && existsSync(file)) {
      const buffer = readFileSync(file);
      const row = ID_BYTES + dim * 4;
      for (let offset = 0; offset + row <= buffer.length; offset += row) {
        const id = buffer.toString("latin1", offset, offset + ID_BYTES);
        vectors.set(id, readFloats(buffer, offset + ID_BYTES, dim));
      }
    }
    this.vectors = vectors;
    return vectors;
  }

  async upsert(records: readonly VectorRecord[]): Promise<void> {
    const vectors = this.load();
    for (const record of records) vectors.set(record.id, record.vector);
    if (records.length) this.changed();
  }

  async deleteByIds(ids: readonly string[]): Promise<void> {
    const vectors = this.load();
    for (const id of ids) vectors.delete(id);
    if (ids.length) this.changed();
  }

  private changed(): void {
    this.dirty = true;
    this.matrix = undefined;
  }

  async listDocChunks(): Promise<Map<string, string[]>> {
    return new Map([...this.catalog.docs].map(([docId, doc]) => [docId, [...doc.ids]]));
  }

  async count(): Promise<number> {
    let total = 0;
    for (const doc of this.catalog.docs.values()) total += doc.ids.length;
    return total;
  }

  async query(vector: Float32Array, k: number): Promise<DenseHit[]> {
    const matrix = this.denseMatrix();
    const { ids, data, dim } = matrix;
    const query = vector.length === dim ? vector : Float32Array.from({ length: dim }, (_, i) => vector[i] ?? 0);
    // Keep the k best rows in a list sorted best first; a row that cannot enter is rejected by one comparison.
    const best: { row: number; score: number }[] = [];
    for (let row = 0; row < ids.length; row++) {
      let dot = 0;
      const base = row * dim;
      for (let i = 0; i < dim; i++) dot += (data[base + i] ?? 0) * (query[i] ?? 0);
      if (best.length >= k && dot <= (best[best.length - 1]?.score ?? Number.NEGATIVE_INFINITY)) continue;
      let at = best.length;
      while (at > 0 && (best[at - 1]?.score ?? 0) < dot) at--;
      best.splice(at, 0, { row, score: dot });
      if (best.length > k) best.pop();
    }
    return best.map(({ row, score }) => ({ id: ids[row] ?? "", score }));
  }

  /** One contiguous matrix for the scan: far faster than walking a Map of small arrays per query. */
  private denseMatrix(): { ids: string[]; data: Float32Array; dim: number } {
    if (this.matrix) return this.matrix;
    const vectors = this.load();
    const dim = this.catalog.meta?.dim ?? 0;
    const ids = [...vectors.keys()];
    const data = new Float32Array(ids.length * dim);
    ids.forEach((id, row) => {
      const vector = vectors.get(id);
      if (vector) data.set(vector.subarray(0, dim), row * dim);
    });
    this.matrix = { ids, data, dim };
    return this.matrix;
  }

  async flush(): Promise<void> {
    this.catalog.save();
    if (!this.dirty) return;
    const dim = this.catalog.meta?.dim ?? 0;
    const vectors = this.load();
    const row = ID_BYTES + dim * 4;
    const buffer = Buffer.alloc(vectors.size * row);
    let offset = 0;
    for (const [id, vector] of vectors) {
      buffer.write(id.padEnd(ID_BYTES, " ").slice(0, ID_BYTES), offset, "latin1");
      writeFloats(buffer, offset + ID_BYTES, vector, dim);
      offset += row;
    }
    writeFileAtomicSync(join(this.catalog.dir, "vectors.bin"), buffer);
    this.dirty = false;
  }
}

// vectors.bin is little-endian float32. On a little-endian host (all that Node ships for) rows are copied as bytes;
// one float at a time through a DataView was most of the store's time (0.9 s of a 7 s index run).
const LITTLE_ENDIAN = endianness() === "LE";

function readFloats(buffer: Buffer, start: number, dim: number): Float32Array {
  const floats = new Float32Array(dim);
  if (LITTLE_ENDIAN) new Uint8Array(floats.buffer).set(buffer.subarray(start, start + dim * 4));
  else for (let i = 0; i < dim; i++) floats[i] = buffer.readFloatLE(start + i * 4);
  return floats;
}

function writeFloats(buffer: Buffer, start: number, vector: Float32Array, dim: number): void {
  if (LITTLE_ENDIAN && vector.length === dim) {
    buffer.set(new Uint8Array(vector.buffer, vector.byteOffset, dim * 4), start);
    return;
  }
  for (let i = 0; i < dim; i++) buffer.writeFloatLE(vector[i] ?? 0, start + i * 4);
}
