/**
 * A project's files live in `<dataDir>/projects/<id>/` (CML's /home/cdsw). Every path from a request is checked
 * here, one component at a time, and refused (400) when it could leave that directory or cannot be used: absolute
 * paths, `..`, NUL and control characters, symlinks whose target is outside the project, and symlinks that point
 * nowhere or loop (a dangling link used to send an exclusive create into an endless EEXIST loop). Links inside
 * the project are followed, as a shell would.
 */
import { constants, lstatSync } from "node:fs";
import { lstat, open, realpath, stat } from "node:fs/promises";
import { extname, join, relative, resolve, sep } from "node:path";
import { badRequest, HttpError, notFound } from "./errors.js";
import { hasControlCharacters, printable } from "./process-values.js";

export function projectDir(dataDir: string, projectId: string): string {
  return join(dataDir, "projects", projectId);
}

const ROOT_ALIASES = new Set(["", ".", "./", "/"]);

export function isRootPath(path: string): boolean {
  return ROOT_ALIASES.has(path);
}

export interface ResolveOptions {
  /** `""`, `.` and `/` name the project directory itself (listing). */
  allowRoot?: boolean;
  /** The last component is the object itself even when it is a symlink (delete removes the link, not its target). */
  keepFinalLink?: boolean;
}

/**
 * The absolute path of a project-relative path: every existing component is a directory or a link to one inside
 * the project, and the last one, if it exists, is not a link out of it or to nowhere. Anything else is a 400
 * that names the component; a project deleted meanwhile is a 404.
 */
export async function resolveInProject(root: string, path: string, options: ResolveOptions = {}): Promise<string> {
  if (options.allowRoot && isRootPath(path)) return root;
  const shown = printable(path);
  if (path.includes("\0") || hasControlCharacters(path)) {
    throw badRequest(`path must not contain NUL or control characters: ${shown}`);
  }
  const normalised = path.replace(/\\/g, "/").replace(/^(\.\/)+/, "");
  const parts = normalised.split("/").filter((part) => part !== "" && part !== ".");
  if (!normalised || parts.length === 0 || normalised.startsWith("/") || parts.some((part) => part === "..")) {
    throw badRequest(`path must be relative to the project and stay inside it: ${shown}`);
  }
  const full = resolve(root, ...parts);
  if (!isInside(root, full)) throw badRequest(`path must stay inside the project: ${shown}`);
  // A project deleted while this request ran has no directory left: that is a 404, not a server error.
  const realRoot = await realpath(root).catch((error: unknown) => {
    if (errorCode(error) === "ENOENT") throw notFound("the project was deleted");
    throw error;
  });
  let current = realRoot;
  for (const [index, part] of parts.entries()) {
    const last = index === parts.length - 1;
    const here = parts.slice(0, index + 1).join("/");
    const candidate = join(current, part);
    const info = await lstat(candidate).catch((error: unknown) => {
      if (errorCode(error) === "ENOENT") return undefined;
      throw badRequest(`${printable(here)} cannot be used: ${errorCode(error) ?? "error"}`);
    });
    if (!info) return full; // the rest does not exist yet (an upload creates it)
    if (info.isSymbolicLink()) {
      if (last && options.keepFinalLink) return full;
      const target = await realpath(candidate).catch((error: unknown) => {
        const code = errorCode(error);
        throw badRequest(
          code === "ELOOP"
            ? `${printable(here)} is a symlink that loops`
            : `${printable(here)} is a symlink that points nowhere (${code ?? "error"})`,
        );
      });
      if (!isInside(realRoot, target)) throw badRequest(`path leaves the project through a symlink: ${shown}`);
      current = target;
    } else {
      current = candidate;
    }
    if (!last && !(await stat(current)).isDirectory()) throw badRequest(`${printable(here)} is not a directory`);
  }
  return full;
}

function isInside(root: string, full: string): boolean {
  return full === root || full.startsWith(root.endsWith(sep) ? root : root + sep);
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

/** Whether anything, a dangling link included, has this name. */
function taken(full: string): boolean {
  try {
    lstatSync(full);
    return true;
  } catch {
    return false;
  }
}

/** CML never overwrites on upload: `a.py` taken → `a(1).py`, then `a(2).py` (openapi/FACTS.md §5). */
export function freeName(full: string): string {
  if (!taken(full)) return full;
  const ext = extname(full);
  const stem = ext && ext !== full ? full.slice(0, -ext.length) : full;
  for (let n = 1; ; n++) {
    const candidate = `${stem}(${n})${ext}`;
    if (!taken(candidate)) return candidate;
  }
}

/** Bound on losing the race for a free name to concurrent uploads: never spin. */
const MAX_NAME_ATTEMPTS = 100;

/**
 * Writes a new file at `full` or its first free `(n)` name, atomically: exclusive create, so two concurrent
 * uploads of one path never both land on it (the second gets `(1)`, as on CML). O_NOFOLLOW: a name that became a
 * link after the check is not written through. Returns where it went.
 */
export async function writeNewFile(full: string, data: Uint8Array): Promise<string> {
  for (let attempt = 0; attempt < MAX_NAME_ATTEMPTS; attempt++) {
    const target = freeName(full);
    try {
      const handle = await open(
        target,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      );
      try {
        await handle.writeFile(data);
      } finally {
        await handle.close();
      }
      return target;
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
    }
  }
  throw new HttpError(409, `no free name for this upload after ${MAX_NAME_ATTEMPTS} attempts (concurrent uploads?)`);
}

/** Whether a path names anything, a dangling link included (delete removes links themselves). */
export function pathExists(full: string): boolean {
  return taken(full);
}

export function projectRelative(root: string, full: string): string {
  return relative(root, full).split(sep).join("/");
}
