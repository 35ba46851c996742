/**
 * The package works as a dependency: `npm pack` carries the compiled code and its types, and a separate project
 * that installs the tarball runs the README's client example as written and a plan/apply/destroy through
 * `cml-lab/deploy`, against the local platform. The install is npm's own (`npm install --offline`, from the cache the
 * repository's `npm ci` filled; consumer-lock.ts says why with a lock), so the project gets what a dependent
 * gets: not the packages only the workloads use (src/shared/workload-packages.ts), and a workload command
 * says which ones to install.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../local/helpers.js";
import { consumerLock } from "./consumer-lock.js";

const ROOT = join(import.meta.dirname, "../..");
/** The heavy ones (Chroma's server bindings, onnxruntime) and every other workload-only package. */
const WORKLOAD_ONLY = [
  "chromadb",
  "chromadb-js-bindings-linux-x64-gnu",
  "@pinecone-database/pinecone",
  "@aws-sdk/client-bedrock-runtime",
  "@smithy/node-http-handler",
  "https-proxy-agent",
  "@huggingface/transformers",
  "onnxruntime-node",
  "linkedom",
  "turndown",
  "@mozilla/readability",
  "htmlparser2",
  "ipaddr.js",
];
let tp: TestPlatform;
let consumer = "";

beforeAll(async () => {
  tp = await startTestPlatform();
  const dir = mkdtempSync(join(tmpdir(), "cml-lab-pack-"));
  // Packs what is built (npm test builds dist/ first); --ignore-scripts: no rebuild inside the test.
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], { cwd: ROOT }).toString(),
  ) as { filename: string }[];
  const tarball = packed[0]?.filename ?? "";
  consumer = dir;
  const manifest = JSON.parse(
    execFileSync("tar", ["-xzOf", join(dir, tarball), "package/package.json"]).toString(),
  ) as Record<string, unknown>;
  const lock = consumerLock(join(ROOT, "package-lock.json"), manifest, tarball, readFileSync(join(dir, tarball)));
  writeFileSync(join(consumer, "package-lock.json"), JSON.stringify(lock, null, 2));
  writeFileSync(
    join(consumer, "package.json"),
    JSON.stringify({ name: "consumer", type: "module", private: true, dependencies: { "cml-lab": `file:${tarball}` } }),
  );
  // --offline: what the lock names comes from the cache, and anything it lacks fails instead of being fetched.
  // --ignore-scripts: the dependencies' own install scripts would reach for the network (onnxruntime-node's).
  execFileSync("npm", ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: consumer,
    stdio: "pipe",
  });
}, 180_000);
afterAll(async () => {
  await tp?.close();
  if (consumer) rmSync(consumer, { recursive: true, force: true });
});

/** Runs a script in the consumer project (asynchronously: the local platform answers from this process). */
async function run(file: string, source: string): Promise<string> {
  writeFileSync(join(consumer, file), source);
  const { stdout } = await promisify(execFile)(process.execPath, [file], {
    cwd: consumer,
    env: { PATH: process.env.PATH, CML_API_URL: tp.platform.apiUrl, CML_API_KEY: tp.platform.apiKey },
  });
  return stdout;
}

/** Runs one of the package's bins as a dependent project has it, in node_modules/.bin. */
async function bin(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(join(consumer, "node_modules/.bin", name), args, {
      cwd: consumer,
      env: { PATH: process.env.PATH, CML_API_URL: tp.platform.apiUrl, CML_API_KEY: tp.platform.apiKey },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe("cml-lab installed from its tarball", () => {
  it("carries dist/ with types for both entry points", () => {
    for (const f of ["client/index.js", "client/index.d.ts", "deploy/index.js", "deploy/index.d.ts"])
      expect(readdirSync(join(consumer, "node_modules/cml-lab/dist", f.split("/")[0] ?? ""))).toContain(
        f.split("/")[1],
      );
  });

  it("carries the chat app's UI where the built app looks for it", () => {
    // `cml-lab app` serves these files; from dist/ it reads them from the package's src/ tree (ui-files.ts).
    const check = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        // Not an export of the package: imported by path, as the bin's own modules reach it.
        'const { loadUi } = await import("./node_modules/cml-lab/dist/workloads/app/ui-files.js"); console.log([...loadUi().keys()].join(","))',
      ],
      { cwd: consumer },
    ).toString();
    expect(check.trim()).toBe("index.html,app.js,render.js,style.css");
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

  it("a CI pipeline written in TypeScript type-checks against the installed types and runs", async () => {
    // strict, NodeNext, skipLibCheck off: the .d.ts of both entry points must hold without the workload packages.
    // @types/node is the repository's (any TypeScript project on Node has it); cml-lab resolves from the consumer.
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          skipLibCheck: false,
          outDir: "out",
          types: ["node"],
          typeRoots: [join(ROOT, "node_modules/@types")],
        },
        files: ["pipeline.ts"],
      }),
    );
    writeFileSync(
      join(consumer, "pipeline.ts"),
      `import { writeFileSync, mkdirSync } from "node:fs";
import { type components, createCmlClient, isApiError, unwrap } from "cml-lab/client";
import { apply, type DeployEvent, destroy, plan, runJob, UserError } from "cml-lab/deploy";

type Job = components["schemas"]["Job"];
mkdirSync("ts-src", { recursive: true });
writeFileSync("ts-src/hello.py", "print('hello from a TypeScript pipeline')\\n");
writeFileSync("ts-ci.yaml", \`name: ts-ci
project: { name: "TS Pipeline" }
targets: { ws: { default: true, url: "\\\${env:CML_API_URL}" } }
defaults: { runtime: { editor: PBJ Workbench, kernel: Python 3.11, edition: Standard } }
files: [{ from: ts-src, to: ts-src }]
jobs: { hello: { script: ts-src/hello.py } }
\`);
const manifest = "ts-ci.yaml";
const events: DeployEvent["type"][] = [];
try {
  const before = await plan({ manifest });
  const applied = await apply({ manifest, autoApprove: true, onEvent: (e) => events.push(e.type) });
  const run = await runJob({ manifest, job: "hello", wait: true });
  const api = createCmlClient({ baseUrl: process.env.CML_API_URL ?? "", apiKey: process.env.CML_API_KEY ?? "" });
  const projectId = applied.outputs.project?.id ?? "";
  const jobs: Job[] = (await unwrap(api.GET("/api/v2/projects/{project_id}/jobs", { params: { path: { project_id: projectId } } }))).jobs ?? [];
  const gone = await destroy({ manifest, autoApprove: true });
  console.log(JSON.stringify({
    before: before.entries.map((e) => e.action),
    created: applied.summary?.counts.created,
    events: [...new Set(events)].sort(),
    run: run.succeeded,
    jobs: jobs.map((j) => j.name),
    deleted: gone.summary?.counts.deleted,
  }));
} catch (error) {
  if (error instanceof UserError || isApiError(error)) console.log(JSON.stringify({ error: error.message }));
  else throw error;
}
`,
    );
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const compiled = await promisify(execFile)(process.execPath, [tsc, "-p", consumer]).then(
      () => "",
      (error: { stdout: string }) => error.stdout,
    );
    expect(compiled).toBe("");
    const out = JSON.parse(await run("out/pipeline.js", readFileSync(join(consumer, "out/pipeline.js"), "utf8")));
    expect(out).toMatchObject({ before: ["create", "create", "create"], created: 3, run: true, deleted: 2 });
    expect(out.jobs).toEqual(["hello"]);
    expect(out.events).toEqual(expect.arrayContaining(["resource.start", "resource.done", "summary"]));
  }, 120_000);

  it("the installed types refuse a pipeline that misuses them (the check above is not vacuous)", async () => {
    writeFileSync(
      join(consumer, "pipeline.ts"),
      `import { plan } from "cml-lab/deploy";
const p = await plan({ manifest: "ts-ci.yaml" });
const wrong: number = p.entries[0]?.action ?? 0;
await plan({ manifest: 42 });
console.log(wrong);
`,
    );
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const compiled = await promisify(execFile)(process.execPath, [tsc, "-p", consumer, "--noEmit"]).then(
      () => "",
      (error: { stdout: string }) => error.stdout,
    );
    expect(compiled).toMatch(/pipeline\.ts\(3,7\): error TS2322/);
    expect(compiled).toMatch(/pipeline\.ts\(4,14\): error TS2322/);
  }, 60_000);

  it("installs without the packages only the workloads use", () => {
    const present = WORKLOAD_ONLY.filter((name) => existsSync(join(consumer, "node_modules", name)));
    expect(present).toEqual([]);
  });

  it("runs the deploy bin in full: validate, plan and the local platform", async () => {
    expect((await bin("deploy", ["--help"])).code).toBe(0);
    expect(await bin("deploy", ["validate", "lab.yaml"])).toMatchObject({ code: 0 });
    const plan = await bin("deploy", ["plan", "lab.yaml"]);
    expect(plan).toMatchObject({ code: 0, stdout: expect.stringMatching(/Plan: 3 to create/) });
    // The local platform's server (hono, cron-parser, ajv) comes with the library install.
    const dataDir = join(consumer, ".cml-local");
    try {
      expect((await bin("deploy", ["local", "up", "--data-dir", dataDir])).code).toBe(0);
      const status = await bin("deploy", ["local", "status", "--json", "--data-dir", dataDir]);
      expect(JSON.parse(status.stdout)).toMatchObject({ apiUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:/) });
    } finally {
      expect((await bin("deploy", ["local", "down", "--data-dir", dataDir])).code).toBe(0);
    }
  }, 120_000);

  it("says which workload packages a cml-lab command needs and how to install them", async () => {
    expect((await bin("cml-lab", ["--help"])).code).toBe(0);
    const ingest = await bin("cml-lab", ["ingest", "scrape", "--dir", "pages"]);
    expect(ingest.code).toBe(1);
    expect(ingest.stderr).toMatch(
      /^error: cml-lab ingest needs htmlparser2, linkedom, turndown, turndown-plugin-gfm, @mozilla\/readability, ipaddr\.js, which are not installed$/m,
    );
    expect(ingest.stderr).toContain(
      'install them with npm install htmlparser2@~10.1.0 "linkedom@^0.18.15" turndown@~7.2.5',
    );
    const chroma = await bin("cml-lab", ["chroma", "serve", "--path", "chroma"]);
    expect(chroma).toMatchObject({ code: 1 });
    expect(chroma.stderr).toMatch(/^error: the Chroma server needs chromadb, which is not installed$/m);
    expect(chroma.stderr).toContain("install it with npm install chromadb@~3.5.0");
    expect(chroma.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  }, 60_000);
});
