/**
 * Reads what the workspace holds for one stack with few calls (house style; issue #5): the container kind first
 * (one project listing), then every other kind's `read` at once inside that project. Everything is matched to the
 * manifest later, by `plan`.
 */
import { type CmlClient, isApiError, unwrap } from "../../client/index.js";
import type { ResolvedManifest } from "../manifest/model.js";
import { containerOf, type KindRegistry, type LiveState, type Platform } from "./kind.js";

export async function readLive(
  api: CmlClient,
  manifest: ResolvedManifest,
  kinds: KindRegistry,
  platform: Platform,
  /**
   * The project the caller expects the listing to find (one it holds the stack lock in): its contents are read
   * alongside the listing instead of after it, one round trip less. Read again only if the listing disagrees.
   */
  expectedProjectId?: string,
): Promise<LiveState> {
  const container = containerOf(kinds);
  const [slot] = Object.entries(kinds).find(([, k]) => k === container) ?? [];
  if (!slot || !container.read) throw new Error("bug: the container kind has no read");
  const ctx = { api, manifest, platform };
  const early = expectedProjectId ? readContents(kinds, { ...ctx, projectId: expectedProjectId }) : undefined;
  // Awaited below only if the listing agrees; a failure is then thrown there, never left unhandled.
  early?.catch(() => undefined);
  const outer: LiveState = { [slot]: await container.read(ctx) };
  const projectId = container.container.one({ desired: emptyDesired(manifest), live: outer }, false).found?.id;
  // Nothing inside a project that does not exist, or is ambiguous (a conflict the plan reports).
  if (!projectId) return outer;
  const contents = early && projectId === expectedProjectId ? early : readContents(kinds, { ...ctx, projectId });
  return { ...outer, ...(await contents) };
}

/** Every kind's live objects inside one existing project (also `deploy import`'s reads). */
export async function readContents(
  kinds: KindRegistry,
  ctx: { api: CmlClient; manifest?: ResolvedManifest; platform: Platform; projectId: string },
): Promise<Record<string, unknown>> {
  const inner = Object.entries(kinds).filter(([, k]) => !k.container && k.read);
  const slots = await Promise.all(inner.map(async ([slot, k]) => [slot, await k.read?.(ctx)] as const));
  return Object.fromEntries(slots.filter(([, value]) => value !== undefined));
}

/** The container's `one` only looks at the manifest and live state; the rest of the desired state is not read yet. */
function emptyDesired(manifest: ResolvedManifest) {
  return { manifest, runtimes: new Map(), files: new Map(), modelSources: new Map() };
}

/** Where deploy keeps its records inside a project (the file-sync record, the stack lock). */
export const RECORD_DIR = ".cml-lab";

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
