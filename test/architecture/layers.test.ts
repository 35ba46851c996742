import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "../..");
const depcruise = join(repo, "node_modules/.bin/depcruise");
const dir = mkdtempSync(join(tmpdir(), "layers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(dir, "t-"));
  writeFileSync(join(root, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "nodenext", strict: true } }));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

async function cruise(root: string, config = ".dependency-cruiser.cjs"): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(depcruise, ["src", "--config", join(repo, config)], { cwd: root });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: e.code ?? -1, out: e.stdout ?? "" };
  }
}

// The rules of docs/architecture.md bite: each deliberate violation fails the check `npm run lint` runs.
describe("layering rules (dependency-cruiser)", () => {
  it("fails on a deliberate violation of each rule, naming it", async () => {
    const result = await cruise(
      tree({
        "src/workloads/a.ts": 'import "../deploy/b.js";\n',
        "src/deploy/b.ts": "export {};\n",
        "src/client/a.ts": 'import "../local/b.js";\n',
        "src/local/b.ts": "export {};\n",
        "src/deploy/engine/a.ts": 'import "../../local/b.js";\n',
        "src/shared/a.ts": 'import "./b.js";\n',
        "src/shared/b.ts": 'import "./a.js";\n',
      }),
    );
    expect(result.code).not.toBe(0);
    for (const rule of ["workloads-never-deploy", "client-stands-alone", "engine-knows-no-cli-or-local", "no-cycles"])
      expect(result.out).toContain(rule);
  });

  it("passes a tree that keeps the rules", async () => {
    const result = await cruise(
      tree({
        "src/workloads/a.ts": 'import "../client/b.js";\n',
        "src/client/b.ts": 'import "../shared/c.js";\n',
        "src/shared/c.ts": "export {};\n",
      }),
    );
    expect(result).toMatchObject({ code: 0 });
  });
});

// A project that depends on cml-lab has no workload packages (src/shared/workload-packages.ts): the bins and the
// library entry points must not reach one through static imports.
describe("workload packages load on demand (dependency-cruiser)", () => {
  const config = ".dependency-cruiser.workload-packages.cjs";

  it("fails when an entry point reaches one through static imports, naming the rule", async () => {
    const result = await cruise(
      tree({
        "src/cli/bin.ts": 'import "../workloads/a.js";\n',
        "src/workloads/a.ts": 'import { ChromaClient } from "chromadb";\nexport const c = ChromaClient;\n',
      }),
      config,
    );
    expect(result.code).not.toBe(0);
    expect(result.out).toContain("workload-packages-on-demand");
  });

  it("passes an import() where the package is used, and type-only imports", async () => {
    const result = await cruise(
      tree({
        "src/cli/bin.ts": 'import "../workloads/a.js";\n',
        "src/workloads/a.ts":
          'import type { ChromaClient } from "chromadb";\nexport const load = (): Promise<{ ChromaClient: typeof ChromaClient }> => import("chromadb");\n',
      }),
      config,
    );
    expect(result).toMatchObject({ code: 0 });
  });
});
