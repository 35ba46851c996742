import { existsSync, readFileSync } from "node:fs";
import { endianness } from "node:os";
import { join } from "node:path";
import { writeFileAtomicSync } from "../../../shared/atomic-write.js";
import type { ChunkCatalog } from "../catalog.js";
import { topK } from "../top-k.js";
import type { DenseHit, StoreMeta, VectorRecord, VectorStore } from "./store.js";

const ID_BYTES = 32;

interface DenseMatrix {
  ids: string[];
  /** Component i of row r at i·rows + r. */
  columns: Float32Array;
  dim: number;
  scores: Float64Array;
}

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
  private matrix: DenseMatrix | undefined;

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
    const { ids, columns, dim, scores } = this.denseMatrix();
    const rows = ids.length;
    scores.fill(0);
    // Column by column, skipping the query's zero components: a hash-embedder query has a few dozen non-zero
    // components of 512, so this reads a tenth of the matrix, and each column is one contiguous run. The sums
    // add the same products in the same order (ascending component) as a row-by-row dot product, so the scores
    // are bit-identical to it.
    for (let i = 0; i < dim; i++) {
      const q = vector[i] ?? 0;
      if (q === 0) continue;
      const base = i * rows;
      for (let row = 0; row < rows; row++) scores[row] = (scores[row] as number) + q * (columns[base + row] as number);
    }
    return topK(scores, rows, k).map(({ index, score }) => ({ id: ids[index] ?? "", score }));
  }

  /**
   * The vectors as one column-major matrix (component i of every row is contiguous), built once per load and
   * dropped on any write; `scores` is the per-query accumulator, reused because a query never awaits mid-scan.
   */
  private denseMatrix(): DenseMatrix {
    if (this.matrix) return this.matrix;
    const vectors = this.load();
    const dim = this.catalog.meta?.dim ?? 0;
    const ids = [...vectors.keys()];
    const rows = ids.length;
    const columns = new Float32Array(rows * dim);
    ids.forEach((id, row) => {
      const vector = vectors.get(id);
      if (!vector) return;
      const n = Math.min(dim, vector.length);
      for (let i = 0; i < n; i++) columns[i * rows + row] = vector[i] ?? 0;
    });
    this.matrix = { ids, columns, dim, scores: new Float64Array(rows) };
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
