/**
 * bench/deploy (issue #7): with 100 ms injected on every API call, apply a generated 50-job / 5-app manifest and
 * report API calls and wall time for the first apply, a no-op re-apply and a one-field change, against a naive
 * sequential create-everything baseline measured in the same run. Prints numbers; asserts nothing about speed.
 */
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { it } from "vitest";
import { createCmlClient, findOneByName, unwrap, uploadProjectFile, waits } from "../../src/client/index.js";
import { startLocalPlatform } from "../../src/local/index.js";
import { PARALLELISM_RANGE } from "../../src/shared/cli-options.js";
import { deploy, writeTree } from "../../test/deploy/engine/harness.js";

const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 100);
const JOBS = 50;
const APPS = 5;
const PYTHON = "docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-pbj-workbench-python3.11-standard:2025.09.1-b5";

function manifest(project: string, firstArgs: string): string {
  const jobs = Array.from({ length: JOBS }, (_, i) => {
    // Chains of five: job i runs after job i-1 within each chain, so the graph has depth 5 and width 10.
    const after = i % 5 === 0 ? "" : `\n    after: j${i - 1}`;
    return `  j${i}:\n    script: src/job.py\n    arguments: "${i === 0 ? firstArgs : `--n ${i}`}"${after}`;
  }).join("\n");
  const apps = Array.from(
    { length: APPS },
    (_, i) =>
      `  a${i}:\n    subdomain: bench-${project.toLowerCase().replace(/\W+/g, "-")}-${i}\n    script: src/app.py`,
  ).join("\n");
  return `name: bench
project: { name: "${project}" }
targets:
  test: { default: true, url: "\${env:CML_API_URL}" }
defaults:
  runtime: { editor: PBJ Workbench, kernel: Python 3.11, edition: Standard }
  cpu: 1
  memory: 1
files:
  - { from: src, to: src }
jobs:
${jobs}
applications:
${apps}
`;
}

/**
 * The critical path of an apply from its own NDJSON events: the longest chain, along the plan's dependency edges,
 * of resource durations (resource.start → resource.done). Measured on a run with no request limit, where a
 * resource's duration is its own calls and waits and nothing else's.
 */
function criticalPathMs(ndjson: string): { criticalMs: number; applyMs: number; chain: string[] } {
  const events = ndjson
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const plan = events.find((e) => e.type === "plan")?.plan as { entries: { key: string; dependsOn: string[] }[] };
  const elapsed = new Map<string, number>();
  for (const e of events)
    if (e.type === "resource.done" && typeof e.key === "string" && typeof e.elapsedMs === "number")
      elapsed.set(e.key, e.elapsedMs);
  const summary = events.find((e) => e.type === "summary") as { elapsedMs: number } | undefined;
  const deps = new Map(plan.entries.map((e) => [e.key, e.dependsOn]));
  const memo = new Map<string, { ms: number; chain: string[] }>();
  const longest = (key: string): { ms: number; chain: string[] } => {
    const known = memo.get(key);
    if (known) return known;
    let best = { ms: 0, chain: [] as string[] };
    for (const d of deps.get(key) ?? []) {
      const sub = longest(d);
      if (sub.ms > best.ms) best = sub;
    }
    const result = { ms: best.ms + (elapsed.get(key) ?? 0), chain: [...best.chain, key] };
    memo.set(key, result);
    return result;
  };
  let top = { ms: 0, chain: [] as string[] };
  for (const key of deps.keys()) {
    const path = longest(key);
    if (path.ms > top.ms) top = path;
  }
  return { criticalMs: top.ms, applyMs: summary?.elapsedMs ?? Number.NaN, chain: top.chain };
}

const APP = `import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(os.environ["CDSW_APP_PORT"])), H).serve_forever()
`;

it("bench: apply vs naive sequential create", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "cml-bench-"));
  const platform = await startLocalPlatform({ dataDir, port: 0 });
  const env = { CML_API_URL: platform.apiUrl, CML_API_KEY: platform.apiKey };
  const counts = new Map<string, number>();
  const count = () => {
    counts.clear();
    platform.faults.set({
      latencyMs: LATENCY_MS,
      match: (call) => {
        const key = `${call.method} ${call.operationId ?? call.path}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return true;
      },
    });
  };
  // The platform consults `match` twice per call (latency, then the fault decision): halve the per-call tallies.
  const total = () => platform.faults.matchedCalls;
  const rows: string[] = [];
  const wall = new Map<string, number>();
  const measure = async (label: string, work: () => Promise<void>) => {
    count();
    const t0 = Date.now();
    await work();
    const ms = Date.now() - t0;
    wall.set(label, ms);
    const byOp = [...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}×${v / 2}`)
      .join(", ");
    rows.push(
      `${label.padEnd(34)} ${String(total()).padStart(5)} calls  ${(ms / 1000).toFixed(1).padStart(6)} s   ${byOp}`,
    );
  };
  try {
    // The first apply in a fresh process also pays for warming the process: the CLI parser and the manifest schema
    // compiled, the client's and the platform's code paths run for the first time (about 0.3-0.5 s here). The naive
    // baseline, measured last, pays none of it; so the rows compared with it run warm, after this one, which is
    // kept as its own row so the cold cost stays visible.
    const cold = writeTree({
      "lab.yaml": manifest("Bench Cold", "--n 0"),
      "src/job.py": "print(1)\n",
      "src/app.py": APP,
    });
    await measure("deploy apply (first, cold process)", async () => {
      const r = await deploy(["apply", "lab.yaml"], env, cold);
      if (r.code !== 0) throw new Error(r.out + r.err);
    });
    const dir = writeTree({ "lab.yaml": manifest("Bench", "--n 0"), "src/job.py": "print(1)\n", "src/app.py": APP });
    await measure("deploy apply (first)", async () => {
      const r = await deploy(["apply", "lab.yaml"], env, dir);
      if (r.code !== 0) throw new Error(r.out + r.err);
    });
    await measure("deploy apply (no-op)", async () => {
      const r = await deploy(["apply", "lab.yaml"], env, dir);
      if (!r.out.includes("Nothing to do.")) throw new Error(r.out + r.err);
    });
    writeTree({ "lab.yaml": manifest("Bench", "--n zero") }, dir);
    await measure("deploy apply (one field changed)", async () => {
      const r = await deploy(["apply", "lab.yaml"], env, dir);
      if (!/1 updated/.test(r.out)) throw new Error(r.out + r.err);
    });
    await measure("deploy plan (no-op)", async () => {
      await deploy(["plan", "lab.yaml"], env, dir);
    });
    const wide = writeTree({
      "lab.yaml": manifest("Bench Wide", "--n 0"),
      "src/job.py": "print(1)\n",
      "src/app.py": APP,
    });
    let unlimited = { criticalMs: 0, applyMs: 0, chain: [] as string[] };
    await measure("deploy apply (first, no request limit)", async () => {
      // The widest --parallelism the CLI takes (64): more than the 55 objects, so no request waits for a slot.
      const r = await deploy(
        ["apply", "lab.yaml", "--parallelism", String(PARALLELISM_RANGE.max), "--json"],
        env,
        wide,
      );
      if (r.code !== 0) throw new Error(r.out + r.err);
      unlimited = criticalPathMs(r.out);
    });
    const third = writeTree({
      "lab.yaml": manifest("Bench Third", "--n 0"),
      "src/job.py": "print(1)\n",
      "src/app.py": APP,
    });
    let bounded = { criticalMs: 0, applyMs: 0, chain: [] as string[] };
    await measure("deploy apply (first, --parallelism 8)", async () => {
      const r = await deploy(["apply", "lab.yaml", "--json"], env, third);
      if (r.code !== 0) throw new Error(r.out + r.err);
      bounded = criticalPathMs(r.out);
    });
    rows.push(
      `critical path (from the unlimited run): ${(unlimited.criticalMs / 1000).toFixed(1)} s via ${unlimited.chain.join(" → ")}`,
      `execution phase: unlimited ${(unlimited.applyMs / 1000).toFixed(1)} s (${(unlimited.applyMs / unlimited.criticalMs).toFixed(2)}× the critical path), --parallelism 8 ${(bounded.applyMs / 1000).toFixed(1)} s (${(bounded.applyMs / unlimited.criticalMs).toFixed(2)}×; target ≤ 1.3×)`,
    );

    // The lab itself, against the platform as a workspace target (the same path a CI pipeline takes).
    const root = path.resolve(import.meta.dirname, "../..");
    const labArgs = ["manifests/lab.yaml", "--target", "workspace"];
    let lab = { criticalMs: 0, applyMs: 0, chain: [] as string[] };
    await measure("lab.yaml apply (first)", async () => {
      const r = await deploy(["apply", ...labArgs, "--json"], env, root);
      if (r.code !== 0) throw new Error(r.out + r.err);
      lab = criticalPathMs(r.out);
    });
    await measure("lab.yaml apply (no-op)", async () => {
      const r = await deploy(["apply", ...labArgs], env, root);
      if (!r.out.includes("Nothing to do.")) throw new Error(r.out + r.err);
    });
    rows.push(
      `lab.yaml: critical path ${(lab.criticalMs / 1000).toFixed(1)} s via ${lab.chain.join(" → ")}; execution ${(lab.applyMs / 1000).toFixed(1)} s (${(lab.applyMs / lab.criticalMs).toFixed(2)}×, --parallelism 8)`,
    );
    platform.faults.clear();
    await deploy(["destroy", ...labArgs, "--auto-approve"], env, root);

    // Baseline: what a naive script does, one call after another, creating everything.
    const api = createCmlClient({ baseUrl: platform.apiUrl, apiKey: platform.apiKey });
    await measure("naive sequential create", async () => {
      const project = await unwrap(api.POST("/api/v2/projects", { body: { name: "Naive", template: "local" } }));
      const project_id = project.id ?? "";
      await waits.projectReady(api, project_id);
      await uploadProjectFile(api, project_id, "src/job.py", "print(1)\n");
      await uploadProjectFile(api, project_id, "src/app.py", APP);
      const ids: string[] = [];
      for (let i = 0; i < JOBS; i++) {
        const job = await unwrap(
          api.POST("/api/v2/projects/{project_id}/jobs", {
            params: { path: { project_id } },
            body: {
              name: `j${i}`,
              script: "src/job.py",
              arguments: `--n ${i}`,
              runtime_identifier: PYTHON,
              cpu: 1,
              memory: 1,
              ...(i % 5 === 0 ? {} : { parent_id: ids[i - 1] }),
            },
          }),
        );
        ids.push(job.id ?? "");
      }
      for (let i = 0; i < APPS; i++) {
        const app = await unwrap(
          api.POST("/api/v2/projects/{project_id}/applications", {
            params: { path: { project_id } },
            body: {
              name: `n${i}`,
              subdomain: `naive-app-${i}`,
              script: "src/app.py",
              runtime_identifier: PYTHON,
              cpu: 1,
              memory: 1,
            },
          }),
        );
        await waits.applicationRunning(api, project_id, app.id ?? "");
      }
      const found = await findOneByName(api, "project", { name: "Naive" });
      if (!found) throw new Error("naive project missing");
    });
    // Issue 20's targets: ≥ 3× the naive baseline at the default parallelism; ≤ 1.3× the critical path.
    const naive = wall.get("naive sequential create") ?? Number.NaN;
    const times = (label: string) => (naive / (wall.get(label) ?? Number.NaN)).toFixed(2);
    rows.push(
      `speed-up over naive sequential: first apply ${times("deploy apply (first)")}× (target ≥ 3×), in a cold process ${times("deploy apply (first, cold process)")}×, --parallelism 8 (--json) ${times("deploy apply (first, --parallelism 8)")}×`,
    );
    platform.faults.clear();
    await deploy(["destroy", "lab.yaml", "--auto-approve"], env, cold);
    await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
    await deploy(["destroy", "lab.yaml", "--auto-approve"], env, wide);
    await deploy(["destroy", "lab.yaml", "--auto-approve"], env, third);
  } finally {
    await platform.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(
    `\nbench/deploy: ${JOBS} jobs (10 chains of 5), ${APPS} apps, ${LATENCY_MS} ms per API call\n${rows.join("\n")}\n`,
  );
});
