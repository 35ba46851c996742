/**
 * The one atomic write: a reader (or a crash) sees the old file or the new one, never half of either. The temp
 * file sits beside the target (same filesystem, so the rename is atomic) and is created with the final mode,
 * so a secret is never readable by others, even for a moment.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

let counter = 0;
const tempFor = (file: string) => `${file}.${process.pid}.${++counter}.tmp`;

export async function writeFileAtomic(file: string, content: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = tempFor(file);
  try {
    await writeFile(temp, content, { mode });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** For the synchronous stores (the chunk catalog, the page cache). */
export function writeFileAtomicSync(file: string, content: string | Uint8Array, mode = 0o644): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = tempFor(file);
  try {
    writeFileSync(temp, content, { mode });
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
