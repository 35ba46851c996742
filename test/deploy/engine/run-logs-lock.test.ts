/**
 * `deploy run` (exit code = outcome, --follow streams the log, a dependent job runs after its parent),
 * `deploy logs`, and two concurrent applies serialised by the stack lock — against the local platform.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findOneByName, unwrap, uploadProjectFile, waitFor } from "../../../src/client/index.js";
import { readProjectFileText } from "../../../src/deploy/engine/live.js";
import { startTestPlatform, type TestPlatform } from "../../local/helpers.js";
import { deploy, inventory, writeTree } from "./harness.js";
import { MANIFEST, SOURCES } from "./runner-stack.js";

let tp: TestPlatform;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  tp = await startTestPlatform();
  env = { CML_API_URL: tp.platform.apiUrl, CML_API_KEY: tp.platform.apiKey };
});
afterAll(async () => {
  await tp?.close();
});

describe("run, logs and the stack lock (local platform)", () => {
  it("runs a job with its outcome as exit code, streams its log, and triggers the dependent job", async () => {
    const dir = writeTree({ "lab.yaml": MANIFEST("Runner"), ...SOURCES });
    expect((await deploy(["apply", "lab.yaml"], env, dir)).code).toBe(0);

    const ok = await deploy(["run", "scrape", "lab.yaml", "--follow", "--timeout", "60"], env, dir);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain("scraped 3 pages");
    expect(ok.err).toMatch(/ENGINE_SUCCEEDED/);

    // The dependent job runs after its parent succeeded (CML parent_id).
    const project = await findOneByName(tp.api, "project", { name: "Runner" });
    const child = await findOneByName(tp.api, "job", { projectId: project?.id ?? "", name: "populate" });
    const childRuns = await waitFor(
      () =>
        unwrap(
          tp.api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
            params: { path: { project_id: project?.id ?? "", job_id: child?.id ?? "" } },
          }),
        ),
      {
        what: "the dependent job to run",
        status: (r) => r.job_runs?.[0]?.status,
        until: (r) => r.job_runs?.some((x) => x.status === "ENGINE_SUCCEEDED") ?? false,
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
    expect(childRuns.job_runs?.length).toBe(1);

    const bad = await deploy(["run", "bad", "lab.yaml", "--wait", "--json"], env, dir);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).status).toBe("ENGINE_FAILED");

    const logs = await deploy(["logs", "job", "bad", "lab.yaml"], env, dir);
    expect(logs.code).toBe(0);
    expect(logs.out).toContain("about to fail");

    const missing = await deploy(["run", "nope", "lab.yaml"], env, dir);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no job nope/);
    await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
  });

  it("serialises two concurrent applies: one waits, the state ends correct and single", async () => {
    const dir = writeTree({ "lab.yaml": MANIFEST("Concurrent"), ...SOURCES });
    const [a, b] = await Promise.all([
      deploy(["apply", "lab.yaml", "--lock-timeout", "60"], env, dir),
      deploy(["apply", "lab.yaml", "--lock-timeout", "60"], env, dir),
    ]);
    expect(a.code, a.err).toBe(0);
    expect(b.code, b.err).toBe(0);
    const outputs = [a, b];
    expect(outputs.filter((r) => /Apply: 5 created/.test(r.out))).toHaveLength(1);
    expect(outputs.filter((r) => r.out.includes("Nothing to do."))).toHaveLength(1);
    expect(outputs.some((r) => /waiting for the stack lock \(held by .* pid \d+ since/.test(r.err))).toBe(true);
    const inv = await inventory(tp.api);
    expect(inv.projects.filter((p) => p === "Concurrent")).toHaveLength(1);
    expect(inv.jobs.filter((j) => j.startsWith("Concurrent/"))).toEqual([
      "Concurrent/bad",
      "Concurrent/populate",
      "Concurrent/scrape",
    ]);
    await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
  });

  it("two machines applying a new stack at once end with one project (the workspace refuses a second name: 409)", async () => {
    const out = await raceForNewProject(tp, "Two Machines");
    // Which way the race goes depends on timing; each way must coordinate, never apply twice at once.
    expect(out).toMatch(/another apply (created|filled|took over) project "Two Machines"|waiting for the stack lock/);
  });

  it("two machines applying a new stack at once end with one project (the workspace allows duplicates)", async () => {
    const lenient = await startTestPlatform({ duplicateProjectNames: true });
    try {
      const out = await raceForNewProject(lenient, "Two Copies");
      expect(out).toMatch(
        /another apply (created project "Two Copies" at the same moment; this one deleted its copy|(took over|filled) project "Two Copies")|waiting for the stack lock/,
      );
    } finally {
      await lenient.close();
    }
  });

  it("waits for a lock held from another machine, names its holder, and ignores an expired one", async () => {
    const dir = writeTree({ "lab.yaml": MANIFEST("Remote Lock"), ...SOURCES });
    expect((await deploy(["apply", "lab.yaml"], env, dir)).code).toBe(0);
    const project = await findOneByName(tp.api, "project", { name: "Remote Lock" });
    const project_id = project?.id ?? "";
    const holder = (expiresAt: string) =>
      JSON.stringify({
        token: "other",
        host: "ci-runner-7",
        pid: 4242,
        startedAt: "2026-01-01T00:00:00Z",
        expiresAt,
        ciUrl: "https://ci.example/run/1",
      });
    await uploadProjectFile(tp.api, project_id, ".cml-lab/runner.lock.json", holder("2999-01-01T00:00:00Z"));
    // A no-op apply changes nothing and takes no lock; give this one something to do.
    const bad = await findOneByName(tp.api, "job", { projectId: project_id, name: "bad" });
    await unwrap(
      tp.api.DELETE("/api/v2/projects/{project_id}/jobs/{job_id}", {
        params: { path: { project_id, job_id: bad?.id ?? "" } },
      }),
    );
    const blocked = await deploy(["apply", "lab.yaml", "--lock-timeout", "1"], env, dir);
    expect(blocked.code).toBe(1);
    expect(blocked.err).toMatch(
      /stack runner is locked: held by ci-runner-7 pid 4242 since .*https:\/\/ci\.example\/run\/1/,
    );
    // It says how to break it by hand: which file, with a command.
    expect(blocked.err).toContain(
      `if its holder is gone, break it by hand: delete .cml-lab/runner.lock.json from the project, e.g. curl -X DELETE -H "Authorization: Bearer $CML_API_KEY" "${tp.platform.apiUrl.replace(/\/+$/, "")}/api/v2/projects/${project_id}/files/.cml-lab%2Frunner.lock.json"`,
    );

    // The hint's command works as printed (the shell expands $CML_API_KEY).
    const command = /e\.g\. (curl .*)\n/.exec(blocked.err)?.[1] ?? "";
    // Asynchronous: the platform serving it runs in this process.
    await promisify(execFile)("sh", ["-c", `${command} --fail --silent`], { env: { ...process.env, ...env } });
    expect(await readProjectFileText(tp.api, project_id, ".cml-lab/runner.lock.json")).toBeUndefined();
    await uploadProjectFile(tp.api, project_id, ".cml-lab/runner.lock.json", holder("2001-01-01T00:00:00Z"));
    const expired = await deploy(["apply", "lab.yaml", "--lock-timeout", "1"], env, dir);
    expect(expired.code, expired.err).toBe(0);
    expect(expired.out).toContain("1 created");
    // Released afterwards: no lock file is left behind.
    const left = await tp.api.GET("/api/v2/projects/{project_id}/files/{path}", {
      params: { path: { project_id, path: ".cml-lab" } },
    });
    expect((left.data?.files ?? []).map((f) => f.path)).toEqual(["runner.files.json"]);
    await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
  });

  it("applies only --select'ed resources and what they depend on", async () => {
    const dir = writeTree({ "lab.yaml": MANIFEST("Selected"), ...SOURCES });
    const some = await deploy(["apply", "lab.yaml", "--select", "jobs.populate"], env, dir);
    expect(some.code, some.err).toBe(0);
    expect(some.out).toMatch(/Apply: 4 created, 0 updated, 0 recreated, 0 deleted, 0 unchanged, 0 failed/);
    expect((await inventory(tp.api)).jobs.filter((j) => j.startsWith("Selected/"))).toEqual([
      "Selected/populate",
      "Selected/scrape",
    ]);
    const unknown = await deploy(["apply", "lab.yaml", "--select", "jobs.nope"], env, dir);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/--select names no resource in the plan: jobs\.nope/);
    const rest = await deploy(["apply", "lab.yaml"], env, dir);
    expect(rest.out).toMatch(/Apply: 1 created, 0 updated, 0 recreated, 0 deleted, 4 unchanged/);
    await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
  });
});

/** Two applies of a new stack at once, each with its own same-machine lock layer (two machines); returns stderr. */
async function raceForNewProject(platform: TestPlatform, name: string): Promise<string> {
  const env = { CML_API_URL: platform.platform.apiUrl, CML_API_KEY: platform.platform.apiKey };
  const dir = writeTree({ "lab.yaml": MANIFEST(name), ...SOURCES });
  const machine = (n: number) => ({ ...env, CML_LAB_LOCK_DIR: path.join(dir, `.locks-machine-${n}`) });
  const [a, b] = await Promise.all([
    deploy(["apply", "lab.yaml", "--lock-timeout", "60"], machine(1), dir),
    deploy(["apply", "lab.yaml", "--lock-timeout", "60"], machine(2), dir),
  ]);
  expect(a.code, a.out + a.err).toBe(0);
  expect(b.code, b.out + b.err).toBe(0);
  const inv = await inventory(platform.api);
  expect(inv.projects.filter((p) => p === name)).toHaveLength(1);
  expect(
    inv.jobs.filter((j) => j.startsWith(`${name}/`)),
    a.out + a.err + b.out + b.err,
  ).toEqual([`${name}/bad`, `${name}/populate`, `${name}/scrape`]);
  const project = await findOneByName(platform.api, "project", { name });
  const files = await platform.api.GET("/api/v2/projects/{project_id}/files/{path}", {
    params: { path: { project_id: project?.id ?? "", path: "jobs" } },
  });
  // No renamed duplicates such as scrape(1).py: only one apply ever wrote into the project.
  expect((files.data?.files ?? []).map((f) => f.path).sort()).toEqual(["bad.py", "populate.py", "scrape.py"]);
  const again = await deploy(["plan", "lab.yaml", "--detailed-exitcode"], env, dir);
  expect(again.code, again.out).toBe(0);
  await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
  return a.err + b.err;
}
