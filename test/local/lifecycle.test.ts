import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { unwrap, waitFor, waits } from "../../src/client/index.js";
import { alive, NODE, PYTHON, readyProject, runLogs, startTestPlatform, type TestPlatform, upload } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cml-local-life-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

const APP = `import http from "node:http";
import { writeFileSync } from "node:fs";
writeFileSync("app.pid", String(process.pid));
http.createServer((q, s) => s.end("up")).listen(Number(process.env.CDSW_APP_PORT), "127.0.0.1");`;

async function appPort(t: TestPlatform, p: string, appId: string): Promise<number> {
  const response = await fetch(`${t.platform.apiUrl}/api/v2/projects/${p}/applications/${appId}/endpoint`, {
    headers: { Authorization: `Bearer ${t.platform.apiKey}` },
  });
  const body: unknown = await response.json();
  if (typeof body === "object" && body !== null && "port" in body && typeof body.port === "number") return body.port;
  throw new Error("no port in endpoint answer");
}

describe("lifecycle", () => {
  it("keeps projects, jobs and run history across a restart, and starts running apps and deployments again", async () => {
    const dataDir = await tempDir();
    let t = await startTestPlatform({ dataDir });
    cleanups.push(() => t.close());
    const key = t.platform.apiKey;
    const p = await readyProject(t.api);
    await upload(t.api, p, {
      "job.sh": "echo persisted-run",
      "app.mjs": APP,
      "m.mjs": "export const f = (r) => ({ got: r });",
    });
    const job = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/jobs", {
        params: { path: { project_id: p } },
        body: { name: "j", script: "job.sh", runtime_identifier: PYTHON },
      }),
    );
    const run = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
        params: { path: { project_id: p, job_id: job.id ?? "" } },
        body: {},
      }),
    );
    await waits.jobRunFinished(t.api, p, job.id ?? "", run.id ?? "", { intervalMs: 50 });
    const app = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/applications", {
        params: { path: { project_id: p } },
        body: { name: "app", subdomain: "app", script: "app.mjs", runtime_identifier: PYTHON },
      }),
    );
    await waits.applicationRunning(t.api, p, app.id ?? "", { intervalMs: 50 });
    const model = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/models", {
        params: { path: { project_id: p } },
        body: {
          name: "m",
          disable_authentication: true,
          auto_build_model: true,
          auto_build_config: { file_path: "m.mjs", function_name: "f", runtime_identifier: NODE },
          auto_deploy_model: true,
        },
      }),
    );
    const call = async (url: string) => {
      const response = await fetch(`${url}/model`, {
        method: "POST",
        body: JSON.stringify({ accessKey: model.access_key, request: 1 }),
      });
      return { status: response.status, body: await response.text() };
    };
    await waitFor(() => call(t.platform.modelServiceUrl), {
      what: "model to answer",
      status: (r) => String(r.status),
      until: (r) => r.status === 200,
      intervalMs: 50,
      timeoutMs: 20_000,
    });
    const port = await appPort(t, p, app.id ?? "");
    const firstAppPid = Number(await readFile(join(dataDir, "projects", p, "app.pid"), "utf8"));
    await t.close();
    expect(alive(firstAppPid)).toBe(false);
    expect(await portAnswers(port)).toBe(false);

    t = await startTestPlatform({ dataDir });
    cleanups.push(() => t.close());
    expect(t.platform.apiKey).toBe(key);
    const project = await unwrap(t.api.GET("/api/v2/projects/{project_id}", { params: { path: { project_id: p } } }));
    expect(project.name).toBe("demo");
    const runs = await unwrap(
      t.api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
        params: { path: { project_id: p, job_id: job.id ?? "" } },
      }),
    );
    expect(runs.job_runs?.map((r) => r.status)).toEqual(["ENGINE_SUCCEEDED"]);
    expect(await runLogs(t.platform, p, job.id ?? "", run.id ?? "")).toContain("persisted-run");
    await waits.applicationRunning(t.api, p, app.id ?? "", { intervalMs: 50 });
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("up");
    const answer = await waitFor(() => call(t.platform.modelServiceUrl), {
      what: "model to answer after restart",
      status: (r) => String(r.status),
      until: (r) => r.status === 200,
      intervalMs: 50,
      timeoutMs: 20_000,
    });
    expect(JSON.parse(answer.body)).toEqual({ success: true, response: { got: 1 } });
    expect(t.specProblems).toEqual([]);
  });

  it("leaves no process and no port behind after close()", async () => {
    const t = await startTestPlatform();
    cleanups.push(() => t.close());
    const p = await readyProject(t.api);
    // The job's script starts a grandchild that would outlive a naive kill of the script alone.
    await upload(t.api, p, {
      "long.sh": "sleep 60 & echo $! > child.pid; echo $$ > job.pid; wait",
      "app.mjs": APP,
      "model.py": "import os\nopen('model.pid','w').write(str(os.getpid()))\ndef f(x):\n    return x\n",
    });
    const job = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/jobs", {
        params: { path: { project_id: p } },
        body: { name: "long", script: "long.sh", runtime_identifier: PYTHON },
      }),
    );
    await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
        params: { path: { project_id: p, job_id: job.id ?? "" } },
        body: {},
      }),
    );
    const app = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/applications", {
        params: { path: { project_id: p } },
        body: { name: "app", subdomain: "app", script: "app.mjs", runtime_identifier: PYTHON },
      }),
    );
    await waits.applicationRunning(t.api, p, app.id ?? "", { intervalMs: 50 });
    const model = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/models", {
        params: { path: { project_id: p } },
        body: {
          name: "m",
          auto_build_model: true,
          auto_build_config: { file_path: "model.py", function_name: "f", runtime_identifier: PYTHON },
          auto_deploy_model: true,
        },
      }),
    );
    const dir = join(t.dataDir, "projects", p);
    const pidOf = async (file: string) => {
      await waitFor(async () => existsSync(join(dir, file)), {
        what: file,
        status: String,
        until: Boolean,
        intervalMs: 50,
        timeoutMs: 20_000,
      });
      return Number(await readFile(join(dir, file), "utf8"));
    };
    const deployed = await waitFor(
      async () => Object.values(JSON.parse(await readFile(join(t.dataDir, "state.json"), "utf8")).deployments ?? {}),
      { what: "deployment recorded", status: (d) => String(d.length), until: (d) => d.length > 0, intervalMs: 50 },
    );
    expect(deployed.length).toBe(1);
    expect(model.id).toBeTruthy();
    const pids = [await pidOf("job.pid"), await pidOf("child.pid"), await pidOf("app.pid")];
    // The model's pid file is written by its build check too; wait until the deployment serves.
    await waitFor(
      async () => {
        const r = await fetch(`${t.platform.modelServiceUrl}/model`, {
          method: "POST",
          headers: { Authorization: `Bearer ${t.platform.apiKey}` },
          body: JSON.stringify({ accessKey: model.access_key, request: 1 }),
        });
        return r.status;
      },
      { what: "model deployed", status: String, until: (s) => s === 200, intervalMs: 50, timeoutMs: 20_000 },
    );
    pids.push(await pidOf("model.pid"));
    const port = await appPort(t, p, app.id ?? "");
    for (const pid of pids) expect(alive(pid)).toBe(true);
    const { apiUrl, modelServiceUrl } = t.platform;
    await t.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(await portAnswers(port)).toBe(false);
    expect(await portAnswers(Number(new URL(apiUrl).port))).toBe(false);
    expect(await portAnswers(Number(new URL(modelServiceUrl).port))).toBe(false);
  });
});
