/**
 * Project files: multipart upload keyed by destination path (never overwriting), list (basenames, not
 * paginated), download, delete.
 */
import { lstat, mkdir, readdir, readFile, realpath, rm, stat } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import type { Schemas } from "../../client/index.js";
import { getProject, type PlatformContext, projectRoot } from "../context.js";
import { badRequest, notFound } from "../errors.js";
import { pathExists, resolveInProject, writeNewFile } from "../project-files.js";
import type { Handlers } from "../server.js";
import { param } from "./projects.js";

export function fileHandlers(ctx: PlatformContext): Handlers {
  const root = (projectId: string) => {
    getProject(ctx, projectId);
    return projectRoot(ctx, projectId);
  };
  return {
    UploadFile: async ({ params, request }) => {
      const dir = root(param(params, "project_id"));
      let form: FormData;
      try {
        form = await request.formData();
      } catch {
        throw badRequest("upload must be multipart/form-data with one field per file, named by its destination path");
      }
      const files: [string, Blob][] = [];
      for (const [name, value] of form.entries()) {
        if (typeof value === "string") throw badRequest(`form field ${name} is not a file`);
        files.push([name, value]);
      }
      if (files.length === 0) throw badRequest("upload has no files");
      // Check every path before writing any, so a bad one leaves nothing half-uploaded.
      const targets = await Promise.all(files.map(async ([name]) => resolveInProject(dir, name)));
      for (const [index, [, blob]] of files.entries()) {
        const target = targets[index];
        if (!target) continue;
        await mkdir(dirname(target), { recursive: true });
        await writeNewFile(target, new Uint8Array(await blob.arrayBuffer()));
      }
      return {};
    },

    ListProjectFiles: async ({ params }) => {
      const dir = root(param(params, "project_id"));
      const path = params.path ?? "";
      const full = await resolveInProject(dir, path, { allowRoot: true });
      const info = await statOrNull(full);
      if (!info) throw notFound(`${path} not found in project`);
      if (!info.isDirectory()) {
        return { files: [fileInfo(path.split("/").pop() ?? path, false, info.size)] };
      }
      const entries = await readdir(full, { withFileTypes: true });
      const files: Schemas["FileInfo"][] = [];
      const realRoot = await realpath(dir);
      for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const entryStat = await entryInfo(join(full, entry.name), realRoot);
        if (entryStat) files.push(fileInfo(entry.name, entryStat.isDirectory, entryStat.size));
      }
      return { files } satisfies Schemas["ListProjectFilesResponse"];
    },

    DownloadProjectFile: async ({ params }) => {
      const dir = root(param(params, "project_id"));
      const path = param(params, "path");
      const full = await resolveInProject(dir, path);
      const info = await statOrNull(full);
      if (!info) throw notFound(`${path} not found in project`);
      if (info.isDirectory()) throw badRequest(`${path} is a directory`);
      // A FIFO or device (a workload can make one) would block the read forever.
      if (!info.isFile()) throw badRequest(`${path} is not a regular file`);
      // Deleted between the stat and the read (a concurrent delete of the file or its project): still a 404.
      const bytes = await readFile(full).catch((error: unknown) => {
        if (error instanceof Error && "code" in error && error.code === "ENOENT")
          throw notFound(`${path} not found in project`);
        throw error;
      });
      return new Response(new Uint8Array(bytes), { headers: { "Content-Type": "application/octet-stream" } });
    },

    DeleteProjectFile: async ({ params }) => {
      const dir = root(param(params, "project_id"));
      const path = param(params, "path");
      // The link itself is deleted, never its target; a dangling or looping link can be removed this way.
      const full = await resolveInProject(dir, path, { keepFinalLink: true });
      if (full === dir) throw badRequest("refusing to delete the project directory");
      if (!pathExists(full)) throw notFound(`${path} not found in project`);
      await rm(full, { recursive: true, force: true });
      return {};
    },
  };
}

function fileInfo(path: string, isDir: boolean, size: number): Schemas["FileInfo"] {
  return { path, is_dir: isDir, file_size: String(isDir ? 0 : size) };
}

/**
 * What a listing shows for an entry: a symlink is described by its target only when that stays in the project;
 * one that leads out, nowhere or in a loop is listed as an empty file, so it can be seen and deleted.
 */
async function entryInfo(path: string, realRoot: string): Promise<{ isDirectory: boolean; size: number } | null> {
  const own = await lstat(path).catch(() => null);
  if (!own) return null;
  if (!own.isSymbolicLink()) return { isDirectory: own.isDirectory(), size: own.size };
  const target = await realpath(path).catch(() => null);
  if (!target || !(target === realRoot || target.startsWith(realRoot + sep))) return { isDirectory: false, size: 0 };
  const info = await statOrNull(target);
  return info ? { isDirectory: info.isDirectory(), size: info.size } : { isDirectory: false, size: 0 };
}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}
