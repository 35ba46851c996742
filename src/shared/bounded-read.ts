/**
 * Reading a file a user named, when the name may point anywhere: a FIFO or /dev/stdin would block forever,
 * /dev/zero never ends, and /proc files claim size 0 while holding the environment. The file is opened
 * non-blocking (so a FIFO opens at once), checked with fstat on the open descriptor (no race with a rename),
 * and read to at most `maxBytes`; a file whose bytes differ from its stat size (procfs, sysfs, a file being
 * written) is refused as well. Errors never carry the file's content.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

export type BoundedReadFailure =
  | "no such file"
  | "is a directory"
  | "not a regular file"
  | "too large"
  | "not a regular file (its content does not match its size)"
  | "cannot be read";

export class BoundedReadError extends Error {
  constructor(
    readonly file: string,
    readonly reason: BoundedReadFailure,
    readonly limit: number,
  ) {
    super(`${file}: ${BoundedReadError.describe(reason, limit)}`);
    this.name = "BoundedReadError";
  }

  /** The reason in words, without the file name. */
  get reasonText(): string {
    return BoundedReadError.describe(this.reason, this.limit);
  }

  private static describe(reason: BoundedReadFailure, limit: number): string {
    return reason === "too large" ? `larger than ${formatBytes(limit)}` : reason;
  }
}

/**
 * Reads at most `maxBytes` of a regular file; throws BoundedReadError for anything else. Synchronous, because the
 * manifest resolver that reads `*_FILE` secrets is; the files are small by definition.
 */
export function readBoundedFile(file: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = errorCode(error);
    throw new BoundedReadError(
      file,
      code === "ENOENT" || code === "ENOTDIR"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : "cannot be read",
      maxBytes,
    );
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new BoundedReadError(file, "is a directory", maxBytes);
    if (!stat.isFile()) throw new BoundedReadError(file, "not a regular file", maxBytes);
    if (stat.size > maxBytes) throw new BoundedReadError(file, "too large", maxBytes);
    // One byte more than stat promised tells a pseudo-file (size 0, content inside) from a real one.
    const buffer = Buffer.alloc(stat.size + 1);
    let filled = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === buffer.length) break;
    }
    if (filled !== stat.size)
      throw new BoundedReadError(file, "not a regular file (its content does not match its size)", maxBytes);
    return buffer.subarray(0, filled);
  } catch (error) {
    if (error instanceof BoundedReadError) throw error;
    throw new BoundedReadError(file, errorCode(error) === "EISDIR" ? "is a directory" : "cannot be read", maxBytes);
  } finally {
    closeSync(fd);
  }
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MiB` : `${Math.round(n / 1024)} KiB`;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}
