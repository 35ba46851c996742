/**
 * `deploy validate --online`: what only the workspace knows, as located diagnostics beside the offline ones.
 * Read-only: credentials (one listing answers 401/403 when the key is wrong), every runtime the manifest names
 * (resolved against the catalogue, with the nearest candidates when none matches), objects with our natural key
 * that we may not touch (the plan's conflicts: unmarked, or another stack's), subdomains taken in the project, and
 * scripts that the manifest does not sync but expects in the project.
 */
import { posix } from "node:path";
import { chooseRuntime, isApiError, listAll, listProjectDir, type Schemas } from "../../client/index.js";
import { UserError } from "../../shared/errors.js";
import { gatherDesired } from "../engine/desired.js";
import type { Target } from "../engine/kind.js";
import type { Diagnostic } from "../manifest/diagnostic.js";
import type { ResolvedManifest, RuntimeChoice, SourceLocation } from "../manifest/model.js";
import { projectsOf } from "../resources/project.js";
import { plan, readLive } from "../stack.js";

export async function onlineChecks(manifest: ResolvedManifest, target: Target): Promise<Diagnostic[]> {
  const { api } = target;
  const apiUrl = target.connection.baseUrl;
  const out: Diagnostic[] = [];
  const error = (message: string, location?: SourceLocation, path?: string, hint?: string) =>
    out.push({
      severity: "error",
      message,
      ...(location ? { location } : {}),
      ...(path ? { path } : {}),
      ...(hint ? { hint } : {}),
    });

  let catalogue: Schemas["Runtime"][];
  try {
    catalogue = await listAll(
      (page_token) => api.GET("/api/v2/runtimes", { params: { query: { page_size: 100, page_token } } }),
      (page) => page.runtimes,
    );
  } catch (e) {
    if (isApiError(e) && e.isAuthFailure) {
      error(
        `${apiUrl} refused the API key (${e.status})`,
        undefined,
        undefined,
        "create an API v2 key (User Settings → API Keys) and set CML_API_KEY",
      );
      return out;
    }
    throw e;
  }

  const resources: { key: string; runtime: RuntimeChoice; location: SourceLocation }[] = [
    ...Object.values(manifest.jobs).map((j) => ({ key: `jobs.${j.key}`, runtime: j.runtime, location: j.location })),
    ...Object.values(manifest.applications).map((a) => ({
      key: `applications.${a.key}`,
      runtime: a.runtime,
      location: a.location,
    })),
    ...Object.values(manifest.models).map((m) => ({
      key: `models.${m.key}`,
      runtime: m.runtime,
      location: m.location,
    })),
  ];
  for (const r of resources) {
    if ("identifier" in r.runtime) {
      const id = r.runtime.identifier;
      if (!catalogue.some((c) => c.image_identifier === id))
        error(`${r.key}: runtime ${id} is not in this workspace's runtime catalogue`, r.location, `${r.key}.runtime`);
      continue;
    }
    try {
      chooseRuntime(catalogue, r.runtime);
    } catch (e) {
      const hint = e instanceof UserError && e.notes.length > 0 ? e.notes.join("; ") : undefined;
      error(`${r.key}: ${e instanceof Error ? e.message : String(e)}`, r.location, `${r.key}.runtime`, hint);
    }
  }
  if (out.length > 0) return out;

  // The same reads and plan as `deploy plan`: its conflicts are what apply would refuse.
  const [desired, live] = await Promise.all([gatherDesired(manifest, api), readLive(api, manifest, target.platform)]);
  const planned = plan(desired, live, { target: { name: manifest.target.name, apiUrl }, adopt: false });
  for (const conflict of planned.conflicts)
    error(
      conflict,
      manifest.project.location,
      undefined,
      "rename it in the manifest, or adopt the object with deploy apply --adopt",
    );

  // Scripts the manifest does not sync must already be in the project.
  const project = projectsOf(live)[0];
  const synced = (path: string) => manifest.files.some((f) => path === f.to || path.startsWith(`${f.to}/`));
  const scripts = [
    ...Object.values(manifest.jobs).map((j) => ({ key: `jobs.${j.key}`, path: j.script, location: j.location })),
    ...Object.values(manifest.applications).map((a) => ({
      key: `applications.${a.key}`,
      path: a.script,
      location: a.location,
    })),
    ...Object.values(manifest.models).map((m) => ({ key: `models.${m.key}`, path: m.file, location: m.location })),
  ].filter((s) => !synced(s.path));
  const listings = new Map<string, Set<string>>();
  for (const s of scripts) {
    if (!project) {
      error(
        `${s.key}: ${s.path} is not synced by files: and the project does not exist yet`,
        s.location,
        `${s.key}.script`,
      );
      continue;
    }
    const dir = posix.dirname(s.path);
    let names = listings.get(dir);
    if (!names) {
      const entries = await listProjectDir(api, project.id, dir).catch(() => []);
      names = new Set(entries.filter((e) => !e.is_dir).map((e) => posix.basename(e.path ?? "")));
      listings.set(dir, names);
    }
    if (!names.has(posix.basename(s.path)))
      error(
        `${s.key}: ${s.path} is not in project "${project.name}" and files: does not sync it`,
        s.location,
        `${s.key}.script`,
      );
  }
  return out;
}
