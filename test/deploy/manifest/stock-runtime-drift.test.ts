/**
 * manifests/examples/stock-runtime.yaml is manifests/lab.yaml for the stock runtime (docs/workspace.md §2b). The two
 * are separate files, so this keeps them the same lab: every job, application and model equal once the stock
 * manifest's own differences are taken out (the runtime, the install job, `after: install`, the project's install
 * settings, the synced build output).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadManifest, type ResolvedManifest } from "../../../src/deploy/manifest/index.js";

const root = join(import.meta.dirname, "../../..");
const env = { CML_API_URL: "https://ml.example.test" };

async function load(file: string, target: string): Promise<ResolvedManifest> {
  const { manifest, diagnostics } = await loadManifest(join(root, file), { env, cwd: root, target });
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  if (!manifest) throw new Error(`${file} did not load`);
  return manifest;
}

/** The resources with what the stock manifest changes on purpose left out. */
function lab(m: ResolvedManifest) {
  const strip = <T extends { location: unknown; runtime: unknown; after?: string }>(r: T) => {
    const { location: _location, runtime: _runtime, after, ...rest } = r;
    return { ...rest, ...(after && after !== "install" ? { after } : {}) };
  };
  const each = <T extends { location: unknown; runtime: unknown; after?: string }>(rs: Record<string, T>) =>
    Object.fromEntries(Object.entries(rs).map(([k, r]) => [k, strip(r)]));
  const { install: _install, ...jobs } = m.jobs;
  return {
    name: m.name,
    project: m.project.name,
    jobs: each(jobs),
    applications: each(m.applications),
    models: each(m.models),
    files: m.files.filter((f) => /launchers$|html_links|samples/.test(f.to)).map((f) => [f.to, f.exclude]),
  };
}

describe("manifests/examples/stock-runtime.yaml", () => {
  for (const target of ["local", "workspace"])
    it(`is lab.yaml on the stock runtime with an install job first (target ${target})`, async () => {
      const stock = await load("manifests/examples/stock-runtime.yaml", target);
      expect(lab(stock)).toEqual(lab(await load("manifests/lab.yaml", target)));
      expect(stock.jobs.install?.script).toBe("launchers/install.py");
      expect(stock.jobs.scrape?.after).toBe("install");
      for (const r of [...Object.values(stock.applications), ...Object.values(stock.models)])
        expect(r.after, r.key).toBe("install");
      for (const r of [
        ...Object.values(stock.jobs),
        ...Object.values(stock.applications),
        ...Object.values(stock.models),
      ])
        expect(r.runtime, r.key).toEqual({ editor: "PBJ Workbench", kernel: "Python 3.11", edition: "Standard" });
      expect(stock.files.map((f) => f.to)).toEqual(
        expect.arrayContaining(["package.json", "package-lock.json", "bin", "dist", "cdsw-build.sh"]),
      );
    });
});
