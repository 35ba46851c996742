/**
 * A project's files live in `<dataDir>/projects/<id>/` (CML's /home/cdsw). Every path from a request is resolved
 * here and refused when it could leave that directory: absolute paths, `..` segments, and symlinks whose
 * target is outside the project.
 */
import { existsSync } from "node:fs";
import { realpath, writeFile } from "node:fs/promises";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { badRequest, notFound } from "./errors.js";

export function projectDir(dataDir: string, projectId: string): string {
  return join(dataDir, "projects", projectId);
}

const ROOT_ALIASES = new Set(["", ".", "./", "/"]);

export function isRootPath(path: string): boolean {
  return ROOT_ALIASES.has(path);
}

/** The absolute path of a project-relative path, or a 400 when it would escape the project. */
export async function resolveInProject(
  root: string,
  path: string,
  options: { allowRoot?: boolean } = {},
): Promise<string> {
  if (options.allowRoot && isRootPath(path)) return root;
  const normalised = path.replace(/\\/g, "/").replace(/^(\.\/)+/, "");
  if (
    !normalised ||
    normalised.includes("\0") ||
    normalised.startsWith("/") ||
    normalised.split("/").some((part) => part === "..")
  ) {
    throw badRequest(`path must be relative to the project and stay inside it: ${path}`);
  }
  const full = resolve(root, normalised);
  if (!isInside(root, full)) throw badRequest(`path must stay inside the project: ${path}`);
  // Follow symlinks on the part that exists: a link out of the project is refused even when the file exists.
  // A project deleted while this request ran has no directory left: that is a 404, not a server error.
  const realRoot = await realpath(root).catch((error: unknown) => {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") throw notFound("the project was deleted");
    throw error;
  });
  let probe = full;
  while (!existsSync(probe) && probe !== root) probe = dirname(probe);
  const realProbe = await realpath(probe);
  if (!isInside(realRoot, realProbe)) throw badRequest(`path leaves the project through a symlink: ${path}`);
  return full;
}

function isInside(root: string, full: string): boolean {
  return full === root || full.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** CML never overwrites on upload: `a.py` taken → `a(1).py`, then `a(2).py` (FACTS.md §5). */
export function freeName(full: string): string {
  if (!existsSync(full)) return full;
  const ext = extname(full);
  const stem = ext && ext !== full ? full.slice(0, -ext.length) : full;
  for (let n = 1; ; n++) {
    const candidate = `${stem}(${n})${ext}`;
    if (!existsSync(candidate)) return candidate;
  }
}

/**
 * Writes a new file at `full` or its first free `(n)` name, atomically: exclusive create, so two concurrent
 * uploads of one path never both land on it (the second gets `(1)`, as on CML). Returns where it went.
 */
export async function writeNewFile(full: string, data: Uint8Array): Promise<string> {
  for (;;) {
    const target = freeName(full);
    try {
      await writeFile(target, data, { flag: "wx" });
      return target;
    } catch (error) {
      if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error;
    }
  }
}

export function projectRelative(root: string, full: string): string {
  return relative(root, full).split(sep).join("/");
}
