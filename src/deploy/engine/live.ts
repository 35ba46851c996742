/**
 * Reads what the workspace holds for one stack with few calls (house style; issue #5): one project listing,
 * then one list per kind in that project, per model one build listing and one deployment listing, and the
 * file-sync record. Everything is matched to the manifest later, by `plan`.
 */
import { type CmlClient, isApiError, listAll, type Schemas, unwrap } from "../../client/index.js";
import type { ResolvedManifest } from "../manifest/model.js";
import { type FileRecord, fileRecordPath, parseFileRecord } from "../resources/files.js";

export interface LiveModel {
  model: Schemas["Model"] & { id: string };
  /** Builds, newest first. */
  builds: Schemas["ModelBuild"][];
  /** Deployments of the newest build, newest first. */
  deployments: Schemas["ModelDeployment"][];
}

export interface LiveState {
  /** Every project with the manifest's exact name (more than one is a conflict). */
  projects: (Schemas["Project"] & { id: string })[];
  jobs: Schemas["Job"][];
  applications: Schemas["Application"][];
  models: LiveModel[];
  fileRecord?: FileRecord;
  /**
   * Application id → URL, for `${resources.applications.<key>.url}`. The API has no URL field: on a workspace it
   * is computed from the subdomain, on the local platform one call per application asks (engine/session.ts).
   */
  appUrls?: Readonly<Record<string, string>>;
}

export const EMPTY_LIVE: LiveState = { projects: [], jobs: [], applications: [], models: [] };

const PAGE = 100;

export async function readLive(api: CmlClient, manifest: ResolvedManifest): Promise<LiveState> {
  const name = manifest.project.name;
  const search_filter = JSON.stringify({ name });
  const projects = (
    await listAll(
      (page_token) =>
        api.GET("/api/v2/projects", { params: { query: { search_filter, page_size: PAGE, page_token } } }),
      (page) => page.projects,
    )
  )
    // search_filter matches substrings (FACTS.md §4): only the exact name is ours.
    .filter((p): p is Schemas["Project"] & { id: string } => p.name === name && typeof p.id === "string");
  const project = projects[0];
  if (!project || projects.length > 1) return { ...EMPTY_LIVE, projects };
  return { projects, ...(await readProjectContents(api, project.id, manifest.name, declaredKinds(manifest))) };
}

export type ListedKind = "applications" | "models";

function declaredKinds(manifest: ResolvedManifest): Set<ListedKind> {
  const kinds = new Set<ListedKind>();
  if (Object.keys(manifest.applications).length > 0) kinds.add("applications");
  if (Object.keys(manifest.models).length > 0) kinds.add("models");
  return kinds;
}

/**
 * A platform that does not implement a kind at all (501, e.g. a partial local platform) holds none of ours,
 * unless the manifest needs that kind.
 */
async function unlessUnimplemented<T>(kind: ListedKind, needed: ReadonlySet<ListedKind>, list: () => Promise<T[]>) {
  try {
    return await list();
  } catch (error) {
    if (isApiError(error) && error.status === 501 && !needed.has(kind)) return [];
    throw error;
  }
}

export async function readProjectContents(
  api: CmlClient,
  project_id: string,
  stack: string,
  needed: ReadonlySet<ListedKind> = new Set(["applications", "models"]),
): Promise<Omit<LiveState, "projects">> {
  const path = { project_id };
  const [jobs, applications, models, recordText] = await Promise.all([
    listAll(
      (page_token) =>
        api.GET("/api/v2/projects/{project_id}/jobs", { params: { path, query: { page_size: PAGE, page_token } } }),
      (page) => page.jobs,
    ),
    unlessUnimplemented("applications", needed, () =>
      listAll(
        (page_token) =>
          api.GET("/api/v2/projects/{project_id}/applications", {
            params: { path, query: { page_size: PAGE, page_token } },
          }),
        (page) => page.applications,
      ),
    ),
    unlessUnimplemented("models", needed, () =>
      listAll(
        (page_token) =>
          api.GET("/api/v2/projects/{project_id}/models", { params: { path, query: { page_size: PAGE, page_token } } }),
        (page) => page.models,
      ),
    ),
    readProjectFileText(api, project_id, fileRecordPath(stack)),
  ]);
  const liveModels = await Promise.all(
    models
      .filter((m): m is Schemas["Model"] & { id: string } => typeof m.id === "string")
      .map((model) => readModel(api, project_id, model)),
  );
  return {
    jobs,
    applications,
    models: liveModels,
    fileRecord: recordText === undefined ? undefined : parseFileRecord(recordText),
  };
}

async function readModel(
  api: CmlClient,
  project_id: string,
  model: Schemas["Model"] & { id: string },
): Promise<LiveModel> {
  const builds = byNewest(
    await listAll(
      (page_token) =>
        api.GET("/api/v2/projects/{project_id}/models/{model_id}/builds", {
          params: { path: { project_id, model_id: model.id }, query: { page_size: PAGE, page_token } },
        }),
      (page) => page.model_builds,
    ),
  );
  const latest = builds[0]?.id;
  const deployments = latest
    ? byNewest(
        await listAll(
          (page_token) =>
            api.GET("/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/deployments", {
              params: {
                path: { project_id, model_id: model.id, build_id: latest },
                query: { page_size: PAGE, page_token },
              },
            }),
          (page) => page.model_deployments,
        ),
      )
    : [];
  return { model, builds, deployments };
}

function byNewest<T extends { created_at?: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? ""));
}

/** A project file's text, or undefined when it does not exist. */
export async function readProjectFileText(
  api: CmlClient,
  project_id: string,
  path: string,
): Promise<string | undefined> {
  try {
    return (
      (await unwrap(
        api.POST("/api/v2/projects/{project_id}/files/{path}:download", {
          params: { path: { project_id, path } },
          parseAs: "text",
        }),
      )) ?? ""
    );
  } catch (error) {
    if (isApiError(error) && error.isNotFound) return undefined;
    throw error;
  }
}
