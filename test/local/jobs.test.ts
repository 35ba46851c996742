import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CmlClient, isApiError, unwrap, waitFor, waits } from "../../src/client/index.js";
import { alive, NODE, PYTHON, readyProject, runLogs, startTestPlatform, type TestPlatform, upload } from "./helpers.js";

let t: TestPlatform;
beforeEach(async () => {
  t = await startTestPlatform();
});
afterEach(async () => {
  await t.close();
  expect(t.specProblems).toEqual([]);
});

async function createJob(api: CmlClient, projectId: string, body: Record<string, unknown>) {
  return unwrap(
    api.POST("/api/v2/projects/{project_id}/jobs", {
      params: { path: { project_id: projectId } },
      body: { runtime_identifier: PYTHON, ...body },
    }),
  );
}

async function runJob(
  api: CmlClient,
  projectId: string,
  jobId: string,
  body: { arguments?: string; environment?: Record<string, string> } = {},
) {
  const run = await unwrap(
    api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
      params: { path: { project_id: projectId, job_id: jobId } },
      body,
    }),
  );
  return waits.jobRunFinished(api, projectId, jobId, run.id ?? "", { timeoutMs: 20_000, intervalMs: 50 });
}

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    if (isApiError(error)) return error.status;
    throw error;
  }
  return 200;
}

describe("jobs and runs", () => {
  it("runs a script to ENGINE_SUCCEEDED with CML's environment and captured logs", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, {
      "hello.py": [
        "import os",
        "print('hello from', os.getcwd().split('/')[-1])",
        "for k in ['CDSW_PROJECT_ID','CDSW_API_URL','JOB_ARGUMENTS','GREETING','RUN_ONLY']: print(k, '=', os.environ.get(k))",
        "print('key-set', bool(os.environ.get('CDSW_APIV2_KEY')))",
      ].join("\n"),
    });
    const job = await createJob(t.api, p, { name: "hello", script: "hello.py", environment: { GREETING: "hi" } });
    const run = await runJob(t.api, p, job.id ?? "", { arguments: "--a 1", environment: { RUN_ONLY: "yes" } });
    expect(run.status).toBe("ENGINE_SUCCEEDED");
    expect(run.running_at).toBeTruthy();
    expect(run.finished_at).toBeTruthy();
    const logs = await runLogs(t.platform, p, job.id ?? "", run.id ?? "");
    expect(logs).toContain(`hello from ${p}`);
    expect(logs).toContain(`CDSW_PROJECT_ID = ${p}`);
    expect(logs).toContain(`CDSW_API_URL = ${t.platform.apiUrl}/api/v1`);
    expect(logs).toContain("JOB_ARGUMENTS = --a 1");
    expect(logs).toContain("GREETING = hi");
    expect(logs).toContain("RUN_ONLY = yes");
    expect(logs).toContain("key-set True");
    expect(logs).not.toContain(t.platform.apiKey);
  });

  it("marks a failing script ENGINE_FAILED with its stderr in the log", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, { "fail.js": "console.error('boom: bad input'); process.exit(3);" });
    const job = await createJob(t.api, p, { name: "fail", script: "fail.js" });
    const run = await runJob(t.api, p, job.id ?? "");
    expect(run.status).toBe("ENGINE_FAILED");
    expect(await runLogs(t.platform, p, job.id ?? "", run.id ?? "")).toContain("boom: bad input");
  });

  it("starts dependent jobs when the parent run succeeds, in order", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, {
      "step.sh": 'echo "$STEP $(date +%s%N)" >> order.txt',
    });
    const a = await createJob(t.api, p, { name: "a", script: "step.sh", environment: { STEP: "a" } });
    const b = await createJob(t.api, p, { name: "b", script: "step.sh", parent_id: a.id, environment: { STEP: "b" } });
    const c = await createJob(t.api, p, { name: "c", script: "step.sh", parent_id: b.id, environment: { STEP: "c" } });
    expect(b.type).toBe("dependent");
    await runJob(t.api, p, a.id ?? "");
    const lastRun = await waitFor(
      async () => {
        const runs = await unwrap(
          t.api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
            params: { path: { project_id: p, job_id: c.id ?? "" } },
          }),
        );
        return runs.job_runs?.[0];
      },
      {
        what: "job c to run",
        status: (r) => r?.status,
        until: (r) => r?.status === "ENGINE_SUCCEEDED",
        timeoutMs: 20_000,
        intervalMs: 50,
      },
    );
    expect(lastRun?.status).toBe("ENGINE_SUCCEEDED");
    const { readFile } = await import("node:fs/promises");
    const lines = (await readFile(`${t.dataDir}/projects/${p}/order.txt`, "utf8")).trim().split("\n");
    expect(lines.map((l) => l.split(" ")[0])).toEqual(["a", "b", "c"]);
  });

  it("does not start dependents when the parent fails", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, { "fail.sh": "exit 1", "ok.sh": "echo ok" });
    const a = await createJob(t.api, p, { name: "a", script: "fail.sh" });
    const b = await createJob(t.api, p, { name: "b", script: "ok.sh", parent_id: a.id });
    expect((await runJob(t.api, p, a.id ?? "")).status).toBe("ENGINE_FAILED");
    await new Promise((r) => setTimeout(r, 200));
    const runs = await unwrap(
      t.api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
        params: { path: { project_id: p, job_id: b.id ?? "" } },
      }),
    );
    expect(runs.job_runs).toEqual([]);
  });

  it("rejects a missing script, schedule with parent, and an unknown runtime with 400", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, { "ok.sh": "echo ok" });
    const parent = await createJob(t.api, p, { name: "p", script: "ok.sh" });
    expect(await status(createJob(t.api, p, { name: "x", script: "missing.py" }))).toBe(400);
    expect(
      await status(createJob(t.api, p, { name: "x", script: "ok.sh", schedule: "0 * * * *", parent_id: parent.id })),
    ).toBe(400);
    expect(
      await status(createJob(t.api, p, { name: "x", script: "ok.sh", runtime_identifier: "docker.io/nope:1" })),
    ).toBe(400);
    expect(await status(createJob(t.api, p, { name: "x", script: "../ok.sh" }))).toBe(400);
  });

  it("ignores paused on PATCH and applies script, environment and timeout", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, { "a.sh": "echo a", "b.sh": "echo b" });
    const job = await createJob(t.api, p, { name: "j", script: "a.sh" });
    const patched = await unwrap(
      t.api.PATCH("/api/v2/projects/{project_id}/jobs/{job.id}", {
        params: { path: { project_id: p, "job.id": job.id ?? "" } },
        body: { paused: true, script: "b.sh", environment: JSON.stringify({ X: "1" }), timeout: "30" },
      }),
    );
    expect(patched).toMatchObject({ paused: false, script: "b.sh", environment: '{"X":"1"}', timeout: "30" });
    expect(
      await status(
        t.api
          .PATCH("/api/v2/projects/{project_id}/jobs/{job.id}", {
            params: { path: { project_id: p, "job.id": job.id ?? "" } },
            body: { script: "gone.sh" },
          })
          .then((r) => unwrap(Promise.resolve(r))),
      ),
    ).toBe(400);
  });

  it("times out a run (ENGINE_TIMEDOUT) and stops one (ENGINE_STOPPED), leaving no process behind", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, { "sleep.sh": "echo $$ > pid-$STEP.txt; sleep 30 & wait" });
    const slow = await createJob(t.api, p, {
      name: "slow",
      script: "sleep.sh",
      timeout: 1,
      environment: { STEP: "t" },
    });
    const timedOut = await runJob(t.api, p, slow.id ?? "");
    expect(timedOut.status).toBe("ENGINE_TIMEDOUT");

    const stoppable = await createJob(t.api, p, { name: "stop", script: "sleep.sh", environment: { STEP: "s" } });
    const started = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
        params: { path: { project_id: p, job_id: stoppable.id ?? "" } },
        body: {},
      }),
    );
    // Running means the process started; wait for the script itself so it has written its pid.
    const { existsSync } = await import("node:fs");
    await waitFor(async () => existsSync(`${t.dataDir}/projects/${p}/pid-s.txt`), {
      what: "the run's script to start",
      status: (ok) => String(ok),
      until: (ok) => ok,
      intervalMs: 20,
    });
    expect(
      await status(
        unwrap(
          t.api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
            params: { path: { project_id: p, job_id: stoppable.id ?? "" } },
            body: {},
          }),
        ),
      ),
    ).toBe(400);
    const stopped = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs/{run_id}:stop", {
        params: { path: { project_id: p, job_id: stoppable.id ?? "", run_id: started.id ?? "" } },
      }),
    );
    expect(stopped.status).toBe("ENGINE_STOPPED");
    const { readFile } = await import("node:fs/promises");
    for (const step of ["t", "s"]) {
      const pid = Number((await readFile(`${t.dataDir}/projects/${p}/pid-${step}.txt`, "utf8")).trim());
      expect(alive(pid)).toBe(false);
    }
  });

  it("gives cml-lab runtime workloads CML_LAB_HOME and node on PATH", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, { "which.sh": 'echo "home=$CML_LAB_HOME"; command -v node' });
    const job = await createJob(t.api, p, { name: "w", script: "which.sh", runtime_identifier: NODE });
    const run = await runJob(t.api, p, job.id ?? "");
    expect(run.status).toBe("ENGINE_SUCCEEDED");
    const logs = await runLogs(t.platform, p, job.id ?? "", run.id ?? "");
    expect(logs).toMatch(/home=\/.+/);
    expect(logs).toContain(process.execPath);
  });

  it("gives stock runtime workloads Python and no Node: not on PATH, not via npm's NODE, no CML_LAB_HOME", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, {
      "which.sh": [
        'test -n "$CML_LAB_HOME" || echo "no CML_LAB_HOME"',
        'test -n "$NODE" || echo "no NODE"',
        "python3 -c 'import sys; print(\"python\", sys.version_info[0])'",
        "command -v node npm npx corepack || echo 'no node programs'",
      ].join("\n"),
      "node.sh": "node --version",
    });
    // What `npm start` puts in the server's environment: npm names its node there.
    const saved = process.env.NODE;
    process.env.NODE = process.execPath;
    try {
      const which = await createJob(t.api, p, { name: "which", script: "which.sh" });
      const run = await runJob(t.api, p, which.id ?? "");
      const logs = await runLogs(t.platform, p, which.id ?? "", run.id ?? "");
      expect(run.status, logs).toBe("ENGINE_SUCCEEDED");
      expect(logs).toContain("no CML_LAB_HOME\nno NODE\n");
      expect(logs).toContain("python 3");
      expect(logs).toContain("no node programs");
      const node = await createJob(t.api, p, { name: "node", script: "node.sh" });
      const failed = await runJob(t.api, p, node.id ?? "");
      expect(failed.status).toBe("ENGINE_FAILED");
      expect(await runLogs(t.platform, p, node.id ?? "", failed.id ?? "")).toMatch(/node: (command )?not found/);
    } finally {
      if (saved === undefined) delete process.env.NODE;
      else process.env.NODE = saved;
    }
  });
});
