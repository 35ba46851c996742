/**
 * A platform that finds bad state on start says what it found and still starts: values no process can take
 * (stored by an older server), a truncated state.json, malformed entries, and unfinished writes.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { unwrap, waits } from "../../src/client/index.js";
import { PYTHON, readyProject, startTestPlatform, type TestPlatform, upload } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cml-local-bad-state-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function start(dir: string): Promise<{ t: TestPlatform; lines: string[] }> {
  const lines: string[] = [];
  const t = await startTestPlatform({ dataDir: dir, log: (line) => lines.push(line) });
  cleanups.unshift(() => t.close());
  return { t, lines };
}

const APP = `import http from "node:http";
http.createServer((q, s) => s.end("up")).listen(Number(process.env.CDSW_APP_PORT), "127.0.0.1");`;

describe("bad state on start", () => {
  it("sets aside objects holding values no process can take, with their dependents, and serves the rest", async () => {
    const dir = await dataDir();
    const first = await start(dir);
    const good = await readyProject(first.t.api, "good");
    const bad = await readyProject(first.t.api, "bad");
    for (const p of [good, bad]) await upload(first.t.api, p, { "ok.sh": "echo ok", "app.mjs": APP });
    const goodJob = await unwrap(
      first.t.api.POST("/api/v2/projects/{project_id}/jobs", {
        params: { path: { project_id: good } },
        body: { name: "fine", script: "ok.sh", runtime_identifier: PYTHON },
      }),
    );
    const badJob = await unwrap(
      first.t.api.POST("/api/v2/projects/{project_id}/jobs", {
        params: { path: { project_id: good } },
        body: { name: "nul", script: "ok.sh", runtime_identifier: PYTHON, environment: { K: "placeholder" } },
      }),
    );
    const app = await unwrap(
      first.t.api.POST("/api/v2/projects/{project_id}/applications", {
        params: { path: { project_id: good } },
        body: { name: "a", subdomain: "a", script: "app.mjs", runtime_identifier: PYTHON, environment: { K: "x" } },
      }),
    );
    const orphan = await unwrap(
      first.t.api.POST("/api/v2/projects/{project_id}/jobs", {
        params: { path: { project_id: bad } },
        body: { name: "orphan", script: "ok.sh", runtime_identifier: PYTHON },
      }),
    );
    await first.t.close();
    cleanups.shift();

    // What an older server stored: NUL in an environment value (of a running app, resumed at start), in a
    // project's name; a job that is not an object; and an unfinished write left by a crash.
    const state = JSON.parse(await readFile(join(dir, "state.json"), "utf8"));
    state.jobs[badJob.id ?? ""].job.environment = JSON.stringify({ K: "secret\u0000value" });
    state.applications[app.id ?? ""].app.environment = JSON.stringify({ K: "x\u0000y" });
    state.applications[app.id ?? ""].app.status = "APPLICATION_RUNNING";
    state.projects[bad].name = "bad\u0000name";
    state.jobs.broken = "not a job";
    await writeFile(join(dir, "state.json"), JSON.stringify(state));
    await writeFile(join(dir, "state.json.999.1.tmp"), '{"version": 1, "proj');

    const { t, lines } = await start(dir);
    const log = lines.join("\n");
    expect(log).toContain(`set aside jobs ${badJob.id}: environment.K contains a NUL byte`);
    expect(log).toContain(`set aside applications ${app.id}`);
    expect(log).toContain(`set aside projects ${bad}: name`);
    expect(log).toContain(`set aside jobs ${orphan.id}: its project was set aside`);
    expect(log).toContain("set aside jobs broken: not an object");
    expect(log).toContain("removed 1 unfinished state write(s): state.json.999.1.tmp");
    expect(log).not.toContain("secret");
    expect(existsSync(join(dir, "state.json.999.1.tmp"))).toBe(false);
    const quarantine = JSON.parse(await readFile(join(dir, "quarantine.json"), "utf8"));
    expect(quarantine.map((q: { id: string }) => q.id).sort()).toEqual(
      [badJob.id, app.id, bad, orphan.id, "broken"].sort(),
    );

    // The rest is served and runs.
    const jobs = await unwrap(
      t.api.GET("/api/v2/projects/{project_id}/jobs", { params: { path: { project_id: good } } }),
    );
    expect(jobs.jobs?.map((j) => j.id)).toEqual([goodJob.id]);
    const run = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
        params: { path: { project_id: good, job_id: goodJob.id ?? "" } },
        body: {},
      }),
    );
    const finished = await waits.jobRunFinished(t.api, good, goodJob.id ?? "", run.id ?? "", { intervalMs: 50 });
    expect(finished.status).toBe("ENGINE_SUCCEEDED");
    // And the repaired state is what a third start reads: nothing left to set aside.
    await t.close();
    cleanups.shift();
    const third = await start(dir);
    expect(third.lines.filter((line) => line.startsWith("state:"))).toEqual([]);
  }, 120_000);

  it("starts with an empty state when state.json is cut off, keeping the damaged file", async () => {
    const dir = await dataDir();
    await writeFile(join(dir, "state.json"), '{"version": 1, "projects": {"abcd-abcd-abcd-abcd": {"name": "cut');
    const { t, lines } = await start(dir);
    expect(lines.join("\n")).toMatch(/state\.json could not be used \(.+\); kept as state\.json\.corrupt-/);
    expect((await readdir(dir)).some((name) => name.startsWith("state.json.corrupt-"))).toBe(true);
    const created = await readyProject(t.api, "after");
    expect(created).toBeTruthy();
  });

  it("starts when state.json is JSON of the wrong shape", async () => {
    for (const text of ["[]", "null", '"x"', '{"version": 1, "jobs": 7, "projects": []}', '{"version": 2}']) {
      const dir = await dataDir();
      await writeFile(join(dir, "state.json"), text);
      const { t } = await start(dir);
      const projects = await unwrap(t.api.GET("/api/v2/projects"));
      expect(projects.projects, text).toEqual([]);
    }
  });
});
