/**
 * The package works as a dependency: `npm pack` carries the compiled code and its types, and a separate project
 * that installs the tarball runs the README's client example as written and a plan/apply/destroy through
 * `cml-lab/deploy`, against the local platform. Offline, the tarball's dependencies are linked from this
 * checkout's node_modules (the registry is not reachable here); everything of cml-lab's own comes from the tarball.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../local/helpers.js";

const ROOT = join(import.meta.dirname, "../..");
let tp: TestPlatform;
let consumer = "";

beforeAll(async () => {
  tp = await startTestPlatform();
  const dir = mkdtempSync(join(tmpdir(), "cml-lab-pack-"));
  // Packs what is built (npm test builds dist/ first); --ignore-scripts: no rebuild inside the test.
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], { cwd: ROOT }).toString(),
  ) as { filename: string; files: { path: string }[] }[];
  const tarball = join(dir, packed[0]?.filename ?? "");
  consumer = join(dir, "consumer");
  const installed = join(consumer, "node_modules", "cml-lab");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  for (const name of readdirSync(join(ROOT, "node_modules")))
    if (!name.startsWith(".") && name !== "cml-lab")
      symlinkSync(join(ROOT, "node_modules", name), join(consumer, "node_modules", name));
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
}, 120_000);
afterAll(() => tp?.close());

/** Runs a script in the consumer project (asynchronously: the local platform answers from this process). */
async function run(file: string, source: string): Promise<string> {
  writeFileSync(join(consumer, file), source);
  const { stdout } = await promisify(execFile)(process.execPath, [file], {
    cwd: consumer,
    env: { PATH: process.env.PATH, CML_API_URL: tp.platform.apiUrl, CML_API_KEY: tp.platform.apiKey },
  });
  return stdout;
}

describe("cml-lab installed from its tarball", () => {
  it("carries dist/ with types for both entry points", () => {
    for (const f of ["client/index.js", "client/index.d.ts", "deploy/index.js", "deploy/index.d.ts"])
      expect(readdirSync(join(consumer, "node_modules/cml-lab/dist", f.split("/")[0] ?? ""))).toContain(
        f.split("/")[1],
      );
  });

  it("runs the README's client example as written", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const example = /## The client in ten lines\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // The example needs a project with a job called scrape that succeeds.
    const setup = `import { loadStack } from "cml-lab/deploy";
import { writeFileSync, mkdirSync } from "node:fs";
mkdirSync("src", { recursive: true });
writeFileSync("src/scrape.py", "print('scraped')\\n");
writeFileSync("lab.yaml", \`name: readme
project: { name: "LLM Hands-on Lab" }
targets: { ws: { default: true, url: "\\\${env:CML_API_URL}" } }
defaults: { runtime: { editor: PBJ Workbench, kernel: Python 3.11, edition: Standard } }
files: [{ from: src, to: src }]
jobs: { scrape: { script: src/scrape.py } }
\`);
const stack = await loadStack({ manifest: "lab.yaml" });
const { summary } = await stack.apply({ autoApprove: true });
console.log(JSON.stringify(summary.counts));
`;
    expect(JSON.parse(await run("setup.mjs", setup))).toMatchObject({ created: 3, failed: 0 });
    expect((await run("client-example.mjs", example ?? "")).trim()).toBe("ENGINE_SUCCEEDED");
  }, 120_000);

  it("plans, applies and destroys through cml-lab/deploy", async () => {
    const out = await run(
      "deploy.mjs",
      `import { plan, apply, destroy, UserError } from "cml-lab/deploy";
const options = { manifest: "lab.yaml", autoApprove: true };
const before = await plan(options);
const applied = await apply(options);
const destroyed = await destroy(options);
const again = await plan(options);
let refused = "";
try { await plan({ manifest: "missing.yaml" }); } catch (e) { refused = e instanceof UserError ? "UserError" : String(e); }
console.log(JSON.stringify({
  before: before.entries.map((e) => e.action),
  applied: applied.summary === undefined,
  destroyed: destroyed.summary?.counts.deleted,
  again: again.entries.map((e) => e.action),
  refused,
}));`,
    );
    expect(JSON.parse(out)).toEqual({
      before: ["skip", "skip", "skip"],
      applied: true,
      destroyed: 2, // the job and the project (its files go with it)
      again: ["create", "create", "create"],
      refused: "UserError",
    });
  }, 120_000);
});
