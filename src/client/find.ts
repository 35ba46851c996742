/**
 * Name lookups. CML's `search_filter` matches substrings, case-sensitively (`{"name":"foo"}` also finds
 * `foo-2`; openapi/FACTS.md §4), so it is only a hint that narrows the listing; the exact match happens here.
 */
import { UserError } from "../shared/errors.js";
import type { CmlClient } from "./client.js";
import { listAll } from "./paginate.js";
import type { components } from "./schema.gen.js";

type S = components["schemas"];

export interface Findable {
  project: S["Project"];
  job: S["Job"];
  application: S["Application"];
  model: S["Model"];
}
export type FindableKind = keyof Findable;

const PAGE_SIZE = 100;

/** Lists every object of a kind whose field contains `value` (server-side substring hint). */
export function listByFilter<K extends FindableKind>(
  api: CmlClient,
  kind: K,
  filter: Record<string, string>,
  projectId?: string,
): Promise<Findable[K][]> {
  const search_filter = JSON.stringify(filter);
  const query = (page_token: string | undefined) => ({ search_filter, page_size: PAGE_SIZE, page_token });
  const pid = () => {
    if (!projectId) throw new Error(`bug: finding a ${kind} needs a project id`);
    return projectId;
  };
  // One branch per kind keeps each call on its own spec path, so the result types stay generated.
  const lists: { [Kind in FindableKind]: () => Promise<Findable[Kind][]> } = {
    project: () =>
      listAll(
        (t) => api.GET("/api/v2/projects", { params: { query: query(t) } }),
        (p) => p.projects,
      ),
    job: () =>
      listAll(
        (t) =>
          api.GET("/api/v2/projects/{project_id}/jobs", { params: { path: { project_id: pid() }, query: query(t) } }),
        (p) => p.jobs,
      ),
    application: () =>
      listAll(
        (t) =>
          api.GET("/api/v2/projects/{project_id}/applications", {
            params: { path: { project_id: pid() }, query: query(t) },
          }),
        (p) => p.applications,
      ),
    model: () =>
      listAll(
        (t) =>
          api.GET("/api/v2/projects/{project_id}/models", { params: { path: { project_id: pid() }, query: query(t) } }),
        (p) => p.models,
      ),
  };
  return lists[kind]();
}

/** The one object of `kind` named exactly `name`; `undefined` when there is none. */
export async function findOneByName<K extends FindableKind>(
  api: CmlClient,
  kind: K,
  where: { name: string; projectId?: string },
): Promise<Findable[K] | undefined> {
  const candidates = await listByFilter(api, kind, { name: where.name }, where.projectId);
  return exactlyOne(
    kind,
    `named "${where.name}"`,
    candidates.filter((c) => c.name === where.name),
  );
}

/** Applications are identified by subdomain (unique per workspace); names may repeat. */
export async function findApplicationBySubdomain(
  api: CmlClient,
  projectId: string,
  subdomain: string,
): Promise<S["Application"] | undefined> {
  const candidates = await listByFilter(api, "application", { subdomain }, projectId);
  return exactlyOne(
    "application",
    `with subdomain "${subdomain}"`,
    candidates.filter((c) => c.subdomain === subdomain),
  );
}

function exactlyOne<T extends { id?: string }>(kind: string, description: string, matches: T[]): T | undefined {
  if (matches.length > 1) {
    throw new UserError(`${matches.length} ${kind}s are ${description} (ids ${matches.map((m) => m.id).join(", ")})`, {
      notes: [`rename or delete all but one, then run again`],
    });
  }
  return matches[0];
}
