/**
 * Invariants of apply against the local platform over HTTP (issue #7): apply on empty → created; apply again →
 * nothing to do; one field changed → exactly one update; destroy twice → the second is a no-op; a crash at the
 * k-th call then a rerun converges with no duplicates; injected 5xx/429 + latency converge.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "../../local/helpers.js";
import { applyQuickly, deploy, inventory, writeTree } from "./harness.js";

const CANARY = "canary-engine-5ecr3t-77";

const MANIFEST = (args = "--out data/words.txt", project = "Engine Test") => `name: engine-test
project:
  name: "${project}"
  description: invariants
targets:
  test: { default: true, url: "\${env:CML_API_URL}" }
defaults:
  runtime: { editor: PBJ Workbench, kernel: Python 3.11, edition: Standard }
  cpu: 1
  memory: 2
files:
  - { from: jobs, to: jobs }
jobs:
  prepare:
    script: jobs/prepare.py
    arguments: ${args}
    env:
      API_TOKEN: \${secret:ENGINE_TOKEN}
  count:
    script: jobs/count.py
    after: prepare
`;

const SOURCES = {
  "jobs/prepare.py": "print('prepare')\n",
  "jobs/count.py": "print('count')\n",
};

let tp: TestPlatform;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  tp = await startTestPlatform();
  env = { CML_API_URL: tp.platform.apiUrl, CML_API_KEY: tp.platform.apiKey, ENGINE_TOKEN: CANARY };
});
afterAll(async () => {
  await tp?.close();
});

function stack(project: string, args?: string) {
  return writeTree({ "lab.yaml": MANIFEST(args, project), ...SOURCES });
}

describe("apply invariants (local platform)", () => {
  it("creates on empty, then has nothing to do, then changes exactly one field, then destroys twice", async () => {
    const dir = stack("Invariants");
    const first = await deploy(["apply", "lab.yaml", "--detailed-exitcode"], env, dir);
    expect(first.err).toBe("");
    expect(first.code).toBe(2);
    expect(first.out).toMatch(/Apply: 4 created, 0 updated, 0 recreated, 0 deleted, 0 unchanged, 0 failed \(\d+s\)\./);
    const inv = await inventory(tp.api);
    expect(inv.jobs.filter((j) => j.startsWith("Invariants/"))).toEqual(["Invariants/count", "Invariants/prepare"]);
    expect(inv.files).toContain("Invariants/jobs/prepare.py");

    const again = await deploy(["plan", "lab.yaml", "--detailed-exitcode"], env, dir);
    expect(again.out).toBe("Plan: 0 to create, 0 to update, 0 to recreate, 0 to delete, 4 unchanged.\n");
    expect(again.code).toBe(0);
    const reapply = await deploy(["apply", "lab.yaml", "--detailed-exitcode"], env, dir);
    expect(reapply.code).toBe(0);
    expect(reapply.out).toContain("Nothing to do.");

    writeTree({ "lab.yaml": MANIFEST("--out data/other.txt", "Invariants") }, dir);
    const changed = await deploy(["plan", "lab.yaml", "--json"], env, dir);
    const plan = JSON.parse(changed.out);
    const touched = plan.entries.filter((e: { action: string }) => e.action !== "skip");
    expect(touched).toEqual([
      expect.objectContaining({
        key: "jobs.prepare",
        action: "update",
        changes: [{ path: "arguments", action: "update", old: "--out data/words.txt", new: "--out data/other.txt" }],
      }),
    ]);
    const applied = await deploy(["apply", "lab.yaml"], env, dir);
    expect(applied.out).toMatch(/Apply: 0 created, 1 updated/);

    // A changed source file: only that file is re-uploaded, and it replaces the old one (no `prepare(1).py`).
    writeTree({ "jobs/prepare.py": "print('prepare v2')\n" }, dir);
    const filePlan = await deploy(["plan", "lab.yaml"], env, dir);
    expect(filePlan.out).toContain("~ files.jobs");
    expect(filePlan.out).toContain("      ~ jobs/prepare.py");
    await deploy(["apply", "lab.yaml"], env, dir);
    const afterFiles = await inventory(tp.api);
    expect(afterFiles.files.filter((f) => f.startsWith("Invariants/jobs/"))).toEqual([
      "Invariants/jobs/count.py",
      "Invariants/jobs/prepare.py",
    ]);

    const noPrompt = await deploy(["destroy", "lab.yaml"], env, dir);
    expect(noPrompt.code).toBe(1);
    expect(noPrompt.err).toMatch(/--auto-approve/);
    // On a terminal the user is asked; "no" changes nothing.
    const questions: string[] = [];
    const declined = await deploy(["destroy", "lab.yaml"], env, dir, {
      isTTY: true,
      confirm: async (q) => {
        questions.push(q);
        return false;
      },
    });
    expect(declined.code).toBe(1);
    expect(questions).toEqual(["Destroy them?"]);
    expect(declined.out).toContain("Destroy deletes or recreates 3 object(s) (3 to delete):\n");
    for (const key of ["jobs.count", "jobs.prepare", "project"]) expect(declined.out).toContain(`  - ${key}\n`);
    expect((await inventory(tp.api)).projects).toContain("Invariants");
    const destroyed = await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
    expect(destroyed.code).toBe(0);
    expect(destroyed.out).toMatch(/Destroy: 0 created, 0 updated, 0 recreated, 3 deleted/);
    expect((await inventory(tp.api)).projects).not.toContain("Invariants");
    const twice = await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
    expect(twice.code).toBe(0);
    expect(twice.out).toContain("Nothing to do.");

    for (const r of [first, again, reapply, changed, applied, destroyed])
      expect(`${r.out}${r.err}`).not.toContain(CANARY);
  });

  it("converges after a crash at every k-th call, with no duplicates", async () => {
    const dir = stack("Crashes");
    const crashes: number[] = [];
    for (let k = 1; k <= 17; k += 2) {
      tp.platform.faults.set({ crashAfterCalls: k });
      const r = await applyQuickly(env, dir);
      tp.platform.faults.clear();
      if (r.code !== 0) crashes.push(k);
      const inv = await inventory(tp.api);
      // Whatever was made so far is made once.
      expect(inv.projects.filter((p) => p === "Crashes").length).toBeLessThanOrEqual(1);
      expect(new Set(inv.jobs).size).toBe(inv.jobs.length);
      expect(inv.files.filter((f) => /\(\d+\)/.test(f))).toEqual([]);
      const rerun = await deploy(["apply", "lab.yaml", "--auto-approve"], env, dir);
      expect(rerun.code, rerun.out + rerun.err).toBe(0);
      const plan = await deploy(["plan", "lab.yaml", "--detailed-exitcode"], env, dir);
      expect(plan.code, plan.out).toBe(0);
      const done = await inventory(tp.api);
      expect(done.projects.filter((p) => p === "Crashes")).toEqual(["Crashes"]);
      expect(done.jobs.filter((j) => j.startsWith("Crashes/"))).toEqual(["Crashes/count", "Crashes/prepare"]);
      await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
    }
    // The crashes really interrupted applies (the test would prove nothing otherwise).
    expect(crashes.length).toBeGreaterThanOrEqual(6);
  }, 180_000);

  it("converges under 10% 5xx, 10% 429, lost answers and latency, without duplicating a create", async () => {
    const dir = stack("Flaky");
    let posts = 0;
    tp.platform.faults.set({
      errorRate: 0.1,
      rateLimitRate: 0.1,
      retryAfterSeconds: 0,
      // Handled, then the answer is lost: a create that happened but was not seen must not happen twice.
      dropRate: 0.1,
      dropPhase: "after",
      latencyMs: 20,
      random: seeded(7),
      match: (call) => {
        if (call.method === "POST" && call.operationId?.startsWith("Create")) posts++;
        return true;
      },
    });
    try {
      const r = await deploy(["apply", "lab.yaml", "--auto-approve"], env, dir);
      expect(r.code, r.out + r.err).toBe(0);
    } finally {
      tp.platform.faults.clear();
    }
    const inv = await inventory(tp.api);
    expect(inv.projects.filter((p) => p === "Flaky")).toEqual(["Flaky"]);
    expect(inv.jobs.filter((j) => j.startsWith("Flaky/"))).toEqual(["Flaky/count", "Flaky/prepare"]);
    expect(posts).toBeGreaterThanOrEqual(3);
    const plan = await deploy(["plan", "lab.yaml", "--detailed-exitcode"], env, dir);
    expect(plan.code).toBe(0);
  });

  it("writes a saved plan without secrets and refuses it once the workspace changed", async () => {
    const dir = stack("Saved");
    const saved = await deploy(["plan", "lab.yaml", "--out", "plan.json"], env, dir);
    expect(saved.code).toBe(0);
    expect(readFileSync(path.join(dir, "plan.json"), "utf8")).not.toContain(CANARY);
    await deploy(["apply", "lab.yaml"], env, dir);
    const stale = await deploy(["apply", "lab.yaml", "--plan", "plan.json"], env, dir);
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/stale/);
    await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
  });

  it("keys secret fingerprints with a per-plan salt, and apply --plan still sees a changed secret", async () => {
    const dir = stack("Salted");
    await deploy(["apply", "lab.yaml"], env, dir);
    // The secret changed: each saved plan shows the change as fingerprints (old → new), keyed by its own salt.
    const changedEnv = { ...env, ENGINE_TOKEN: `${CANARY}-b` };
    await deploy(["plan", "lab.yaml", "--out", "one.json"], changedEnv, dir);
    await deploy(["plan", "lab.yaml", "--out", "two.json"], changedEnv, dir);
    const read = (f: string) => readFileSync(path.join(dir, f), "utf8");
    const hashes = (text: string) => [...text.matchAll(/"(?:hmac-)?sha256:[0-9a-f]{16}"/g)].map((m) => m[0]);
    const salts = [read("one.json"), read("two.json")].map((t) => (JSON.parse(t) as { salt?: string }).salt);
    expect(salts[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(salts[1]).toMatch(/^[0-9a-f]{32}$/);
    expect(salts[0]).not.toBe(salts[1]);
    const [one, two] = [hashes(read("one.json")), hashes(read("two.json"))];
    expect(one.length).toBe(2);
    expect(two.length).toBe(2);
    // The same two secret values fingerprint differently in the two plans.
    expect(one.filter((h) => two.includes(h))).toEqual([]);
    expect(read("one.json")).not.toContain(CANARY);
    // Another value than the plan was made with: stale. The value it was made with: applied.
    const other = await deploy(
      ["apply", "lab.yaml", "--plan", "one.json"],
      { ...env, ENGINE_TOKEN: `${CANARY}-c` },
      dir,
    );
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/stale/);
    const same = await deploy(["apply", "lab.yaml", "--plan", "one.json"], changedEnv, dir);
    expect(same.err).toBe("");
    expect(same.code).toBe(0);
    expect((await deploy(["plan", "lab.yaml", "--detailed-exitcode"], changedEnv, dir)).code).toBe(0);
    await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
  });
});

/** A small deterministic PRNG (mulberry32), so the injected faults are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
