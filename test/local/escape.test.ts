/**
 * Workloads that leave their process group (setsid) and ignore SIGTERM/SIGHUP are still ended: by a run's stop,
 * by the leader's exit, by `deploy local down`, and by `local down` after the server was killed with SIGKILL.
 * Also the data directory's permissions (`local up` needs dist/, built by `npm test`).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type CmlClient, createCmlClient, unwrap, waits } from "../../src/client/index.js";
import { localDown, localUp } from "../../src/local/daemon.js";
import { workloadPids, workloadScope } from "../../src/local/processes.js";
import { alive, PYTHON, readyProject, startTestPlatform, upload } from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Leaves the group, ignores TERM and HUP, and says where it is; then the leader waits (or exits with `end`). */
const escaper = (
  end: string,
) => `setsid bash -c 'trap "" TERM HUP; echo $$ > escaped.pid; while true; do sleep 0.1; done' </dev/null >/dev/null 2>&1 &
${end}`;

async function escapedPid(dir: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const text = existsSync(dir) ? await readFile(join(dir, "escaped.pid"), "utf8").catch(() => "") : "";
    if (text.trim()) return Number(text.trim());
    await sleep(50);
  }
  throw new Error("the workload never wrote escaped.pid");
}

async function gone(pid: number): Promise<boolean> {
  // Killing is synchronous; reaping by init is not: give the kernel a moment before calling it a survivor.
  for (let i = 0; i < 40 && alive(pid); i++) await sleep(50);
  return !alive(pid);
}

async function startJob(api: CmlClient, p: string, script: string) {
  const job = await unwrap(
    api.POST("/api/v2/projects/{project_id}/jobs", {
      params: { path: { project_id: p } },
      body: { name: script, script, runtime_identifier: PYTHON },
    }),
  );
  const run = await unwrap(
    api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
      params: { path: { project_id: p, job_id: job.id ?? "" } },
      body: {},
    }),
  );
  return { jobId: job.id ?? "", runId: run.id ?? "" };
}

describe("workloads that escape their process group", () => {
  it("are ended by a run's stop and by the leader's exit", async () => {
    const t = await startTestPlatform();
    cleanups.push(() => t.close());
    const p = await readyProject(t.api);
    const root = join(t.dataDir, "projects", p);
    await upload(t.api, p, {
      "stays.sh": escaper("sleep 600"),
      "leaves.sh": escaper("while [ ! -s escaped.pid ]; do sleep 0.05; done; exit 0"),
    });

    const stays = await startJob(t.api, p, "stays.sh");
    const first = await escapedPid(root);
    expect(alive(first)).toBe(true);
    await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs/{run_id}:stop", {
        params: { path: { project_id: p, job_id: stays.jobId, run_id: stays.runId } },
      }),
    );
    expect(await gone(first), `escaped process ${first} survived the run's stop`).toBe(true);

    await rm(join(root, "escaped.pid"));
    const leaves = await startJob(t.api, p, "leaves.sh");
    const second = await escapedPid(root);
    const run = await waits.jobRunFinished(t.api, p, leaves.jobId, leaves.runId, { intervalMs: 50 });
    expect(run.status).toBe("ENGINE_SUCCEEDED");
    expect(await gone(second), `escaped process ${second} survived its leader`).toBe(true);
  }, 60_000);

  it("are ended by local down, also after the server was killed with SIGKILL", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "cml-local-escape-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    cleanups.unshift(() => localDown(dataDir));
    for (const crash of [false, true]) {
      const { record } = await localUp({ dataDir });
      const api = createCmlClient({
        baseUrl: record.apiUrl,
        apiKey: (await readFile(record.apiKeyFile, "utf8")).trim(),
        retry: false,
      });
      const p = await readyProject(api, `escape-${crash}`);
      await upload(api, p, { "stays.sh": escaper("sleep 600") });
      await startJob(api, p, "stays.sh");
      const pid = await escapedPid(join(dataDir, "projects", p));
      if (crash) {
        process.kill(record.pid, "SIGKILL");
        expect(await gone(record.pid)).toBe(true);
        expect(alive(pid), "the escaped process outlives a crashed server until down").toBe(true);
      }
      const down = await localDown(dataDir);
      expect(down.stopped, JSON.stringify(down)).toBe(!crash);
      if (crash) expect(down.leftovers).toBeGreaterThan(0);
      expect(await gone(pid), `escaped process ${pid} survived local down (crash: ${crash})`).toBe(true);
      const scope = `${workloadScope(dataDir)}:`;
      expect(workloadPids(undefined, (m) => m.startsWith(scope))).toEqual([]);
    }
  }, 120_000);

  it("keeps the data directory 0700 and the state, key, record and server log 0600", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "cml-local-perms-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    cleanups.unshift(() => localDown(dataDir));
    await localUp({ dataDir });
    const mode = async (path: string) => ((await stat(join(dataDir, path))).mode & 0o777).toString(8);
    expect(await mode(".")).toBe("700");
    for (const file of ["state.json", "api-key", "server.json", "server.log"])
      expect(await mode(file), file).toBe("600");
  }, 60_000);
});
