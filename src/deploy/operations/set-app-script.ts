/**
 * Re-points an application at another script without a manifest: the lab's last exercise, and what CI
 * pipelines do after uploading a new version. PATCH, then one `:restart` (a PATCH alone does not restart a
 * CML application; openapi/FACTS.md §6), then a bounded wait for RUNNING.
 */
import { posix } from "node:path";
import {
  type CmlClient,
  findApplicationBySubdomain,
  findOneByName,
  listProjectDir,
  type Schemas,
  unwrap,
  type WaitOptions,
  waits,
} from "../../client/index.js";
import { UserError } from "../../shared/errors.js";

export interface SetAppScriptRequest {
  project: string;
  /** Application name or subdomain. */
  application: string;
  /** Project-relative path of the new script; it must already be in the project. */
  script: string;
  /** Leave the application as it is after the PATCH (the change takes effect at its next start). */
  restart?: boolean;
  wait?: WaitOptions;
}

export type SetAppScriptEvent =
  | { type: "found"; projectId: string; applicationId: string; from: string | undefined; to: string }
  | { type: "unchanged"; script: string }
  | { type: "patched" }
  | { type: "restarting" }
  | { type: "waiting"; status: string; elapsedMs: number }
  | { type: "running"; application: Schemas["Application"] };

export interface SetAppScriptResult {
  changed: boolean;
  restarted: boolean;
  application: Schemas["Application"];
}

export async function setAppScript(
  api: CmlClient,
  request: SetAppScriptRequest,
  onEvent: (event: SetAppScriptEvent) => void = () => {},
): Promise<SetAppScriptResult> {
  const project = await findOneByName(api, "project", { name: request.project });
  if (!project?.id) {
    throw new UserError(`no project named "${request.project}"`, {
      notes: ["check the name (it is case-sensitive), or pass --project"],
    });
  }
  const projectId = project.id;
  const app =
    (await findOneByName(api, "application", { projectId, name: request.application })) ??
    (await findApplicationBySubdomain(api, projectId, request.application));
  if (!app?.id) {
    throw new UserError(
      `project "${request.project}" has no application named or with subdomain "${request.application}"`,
    );
  }
  const applicationId = app.id;
  onEvent({ type: "found", projectId, applicationId, from: app.script, to: request.script });

  await requireProjectFile(api, projectId, request.script, request.project);
  const restart = request.restart ?? true;
  if (app.script === request.script && (!restart || app.status === "APPLICATION_RUNNING")) {
    onEvent({ type: "unchanged", script: request.script });
    return { changed: false, restarted: false, application: app };
  }

  const ids = { project_id: projectId, application_id: applicationId };
  let application = await unwrap(
    api.PATCH("/api/v2/projects/{project_id}/applications/{application.id}", {
      params: { path: { project_id: projectId, "application.id": applicationId } },
      body: { script: request.script },
    }),
  );
  onEvent({ type: "patched" });
  if (!restart) return { changed: true, restarted: false, application };

  onEvent({ type: "restarting" });
  await unwrap(
    api.POST("/api/v2/projects/{project_id}/applications/{application_id}:restart", { params: { path: ids } }),
  );
  application = await waits.applicationRunning(api, projectId, applicationId, {
    ...request.wait,
    onProgress: (status, elapsedMs) => {
      onEvent({ type: "waiting", status, elapsedMs });
      request.wait?.onProgress?.(status, elapsedMs);
    },
  });
  onEvent({ type: "running", application });
  return { changed: true, restarted: true, application };
}

/** CML would accept a PATCH to a missing script and then fail to start; say so before touching anything. */
async function requireProjectFile(
  api: CmlClient,
  projectId: string,
  script: string,
  projectName: string,
): Promise<void> {
  const listing = await listProjectDir(api, projectId, posix.dirname(script)).catch(() => []);
  const present = listing.some((f) => !f.is_dir && posix.basename(f.path ?? "") === posix.basename(script));
  if (!present) {
    throw new UserError(`script ${script} is not in project "${projectName}"`, {
      notes: ["upload it first (deploy apply syncs the manifest's files:), then run this again"],
    });
  }
}
