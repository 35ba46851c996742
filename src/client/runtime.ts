/**
 * ML Runtime resolution: manifests name a runtime the way people do (editor, kernel, edition, version);
 * CML wants its image identifier. `GET /api/v2/runtimes` has no numeric id, and `search_filter` is only a hint.
 */
import { UserError } from "../shared/errors.js";
import type { CmlClient } from "./client.js";
import { listAll } from "./paginate.js";
import type { components } from "./schema.gen.js";

type Runtime = components["schemas"]["Runtime"];

export interface RuntimeSpec {
  editor: string;
  kernel: string;
  edition: string;
  /** `full_version` or a prefix of it (e.g. `2025.09`); newest when absent. */
  version?: string;
}

export async function resolveRuntime(
  api: CmlClient,
  spec: RuntimeSpec,
): Promise<Runtime & { image_identifier: string }> {
  const runtimes = await listAll(
    (page_token) => api.GET("/api/v2/runtimes", { params: { query: { page_size: 100, page_token } } }),
    (page) => page.runtimes,
  );
  return chooseRuntime(runtimes, spec);
}

/** Pure choice, separate from the listing so it can be tested on any catalogue. */
export function chooseRuntime(runtimes: readonly Runtime[], spec: RuntimeSpec): Runtime & { image_identifier: string } {
  const usable = runtimes.filter(
    (r): r is Runtime & { image_identifier: string } => Boolean(r.image_identifier) && r.status !== "DISABLED",
  );
  const matches = usable
    .filter((r) => r.editor === spec.editor && r.kernel === spec.kernel && r.edition === spec.edition)
    .filter((r) => !spec.version || r.full_version === spec.version || (r.full_version ?? "").startsWith(spec.version))
    .sort((a, b) => compareVersions(b.full_version ?? "", a.full_version ?? ""));
  const best = matches[0];
  if (best) return best;
  const nearest = [...usable]
    .map((r) => ({ r, score: similarity(r, spec) }))
    .sort((a, b) => b.score - a.score || compareVersions(b.r.full_version ?? "", a.r.full_version ?? ""))
    .slice(0, 5)
    .map(({ r }) => `${r.editor} / ${r.kernel} / ${r.edition} / ${r.full_version}`);
  const wanted = `${spec.editor} / ${spec.kernel} / ${spec.edition}${spec.version ? ` / ${spec.version}` : ""}`;
  throw new UserError(`no enabled ML Runtime matches ${wanted}`, {
    notes: nearest.length
      ? ["nearest available (editor / kernel / edition / version):", ...nearest]
      : ["the workspace lists no runtimes"],
  });
}

function similarity(r: Runtime, spec: RuntimeSpec): number {
  return (
    (r.editor === spec.editor ? 1 : 0) +
    (r.kernel === spec.kernel ? 2 : 0) +
    (r.edition === spec.edition ? 1 : 0) +
    (spec.version && (r.full_version ?? "").startsWith(spec.version) ? 1 : 0)
  );
}

/** Compares dotted/dashed versions numerically where both parts are numbers (`2025.09.1-b10` > `2025.09.1-b5`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.\-_]/);
  const pb = b.split(/[.\-_]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    const nx = Number(x.replace(/^\D+/, ""));
    const ny = Number(y.replace(/^\D+/, ""));
    const diff = x !== "" && y !== "" && Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y);
    if (diff !== 0) return diff;
  }
  return 0;
}
