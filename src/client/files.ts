/**
 * Project files: the one multipart operation, whose form-field NAME is the destination path (openapi/FACTS.md §1),
 * which no generated body can express; and the raw-bytes download.
 */
import { UserError } from "../shared/errors.js";
import type { CmlClient } from "./client.js";
import { unwrap } from "./unwrap.js";
import type { Schemas } from "./wire.js";

/** Refuses paths that would escape the project directory; CML resolves them relative to /home/cdsw. */
export function checkProjectPath(path: string): string {
  const normalised = path.replace(/\\/g, "/").replace(/^\.\//, "");
  if (!normalised || normalised.startsWith("/") || normalised.split("/").some((part) => part === "..")) {
    throw new UserError(`project file path must be relative and stay inside the project: ${path}`);
  }
  return normalised;
}

/**
 * Uploads one file. CML never overwrites: a second upload of `a.py` is stored as `a(1).py` with a 200,
 * so callers that mean "replace" must delete first.
 */
export async function uploadProjectFile(
  api: CmlClient,
  projectId: string,
  path: string,
  content: Uint8Array | string,
): Promise<void> {
  const target = checkProjectPath(path);
  const form = new FormData();
  // Copied into a fresh ArrayBuffer-backed view: Blob rejects views over a SharedArrayBuffer.
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : new Uint8Array(content);
  form.append(target, new Blob([bytes]), target.split("/").pop());
  await unwrap(
    api.POST("/api/v2/projects/{project_id}/files", {
      params: { path: { project_id: projectId } },
      body: {},
      bodySerializer: () => form,
    }),
  );
}

export async function downloadProjectFile(api: CmlClient, projectId: string, path: string): Promise<Uint8Array> {
  const buffer = await unwrap(
    api.POST("/api/v2/projects/{project_id}/files/{path}:download", {
      params: { path: { project_id: projectId, path: checkProjectPath(path) } },
      parseAs: "arrayBuffer",
    }),
  );
  return new Uint8Array(buffer ?? new ArrayBuffer(0));
}

/**
 * Lists one project directory (not recursive, not paginated: openapi/FACTS.md §5). Entries are basenames relative to `dir`.
 * The root is sent as `%2F`: a literal "." would be removed by URL normalisation before it reaches the server.
 */
export async function listProjectDir(
  api: CmlClient,
  projectId: string,
  dir = "",
): Promise<NonNullable<Schemas["ListProjectFilesResponse"]["files"]>> {
  const normalised = dir === "" || dir === "." || dir === "/" ? "/" : checkProjectPath(dir);
  const listing = await unwrap(
    api.GET("/api/v2/projects/{project_id}/files/{path}", {
      params: { path: { project_id: projectId, path: normalised } },
    }),
  );
  return listing.files ?? [];
}
