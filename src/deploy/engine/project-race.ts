/**
 * Two machines applying a new stack at the same moment: neither can lock a project that does not exist yet, so
 * both create one. Each then settles the same way, from what the server lists: the copy carrying this stack's
 * marker that was created first (then the smaller id) stays; any other copy is deleted by the process that made
 * it (still empty: everything else in the plan depends on the project), and that process plans again.
 */
import { type CmlClient, listByFilter, unwrap } from "../../client/index.js";
import { deleteIfPresent } from "../resources/create.js";
import { ownerOf } from "../resources/env.js";

/**
 * Thrown by a step that finds its plan out of date (another apply made the same project first): apply stops
 * before anything else happens and the command plans again.
 */
export class PlanOutOfDate extends Error {
  override name = "PlanOutOfDate";
}

/** Whether the project this process created is the one that stays (otherwise it has been deleted). */
export async function settleNewProject(
  api: CmlClient,
  stack: string,
  name: string,
  createdId: string,
): Promise<boolean> {
  const copies = (await listByFilter(api, "project", { name })).filter(
    (p) => p.name === name && p.id && ownerOf(p.environment) === stack,
  );
  const first = copies.sort(
    (a, b) => (a.created_at ?? "").localeCompare(b.created_at ?? "") || (a.id ?? "").localeCompare(b.id ?? ""),
  )[0];
  if (!first?.id || first.id === createdId) return true;
  await deleteIfPresent(() =>
    unwrap(api.DELETE("/api/v2/projects/{project_id}", { params: { path: { project_id: createdId } } })),
  );
  return false;
}
