/**
 * The lab on Cloudera's stock Python runtime, end to end, offline (docs/workspace.md §2b): a local platform in its own
 * temp data dir; `deploy apply manifests/examples/stock-runtime.yaml` syncs cml-lab's build output into the project,
 * and, before the applications and the model, runs the install job, which fetches Node.js from a download site
 * on 127.0.0.1 built from the running Node (SHA-256 checked) and installs the production dependencies with
 * `npm ci --omit=dev` from npm's cache (npm_config_offline, the local target's setting; `npm ci` filled the cache).
 * Then the ingest chain, a question through the chat app's API, the model, a re-apply and a re-run of the install
 * that change nothing, and destroy. A job on the stock runtime cannot run node: only the install gives it one.
 * Prints the install path's timings with the machine's load (measured here, never asserted).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CmlClient,
  createCmlClient,
  findOneByName,
  listAll,
  rawRequest,
  type Schemas,
  unwrap,
  uploadProjectFile,
  waitFor,
  waits,
} from "../../src/client/index.js";
import { localDown, localUp } from "../../src/local/daemon.js";
import { type NodeDist, startNodeDist } from "../helpers/node-dist.js";
import { PYTHON } from "../local/helpers.js";
import { deployCliFor } from "./deploy-cli.js";

const root = join(import.meta.dirname, "../..");
const manifest = join(root, "manifests/examples/stock-runtime.yaml");
const home = mkdtempSync(join(tmpdir(), "cml-lab-stock-"));
const dataDir = join(home, ".cml-local");
const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
const timings: string[] = [];
const load = () =>
  execFileSync("uptime")
    .toString()
    .trim()
    .replace(/.*load average/, "load average");

let dist: NodeDist;
let api: CmlClient;
let projectId = "";
let appUrl = "";

const deployCli = deployCliFor(dataDir, root, env);

async function jobId(name: string): Promise<string> {
  const list = await unwrap(
    api.GET("/api/v2/projects/{project_id}/jobs", {
      params: { path: { project_id: projectId }, query: { search_filter: JSON.stringify({ name }) } },
    }),
  );
  const id = list.jobs?.find((j) => j.name === name)?.id;
  if (!id) throw new Error(`no job ${name}`);
  return id;
}

async function runsOf(name: string): Promise<Schemas["JobRun"][]> {
  const job_id = await jobId(name);
  return listAll(
    (page_token) =>
      api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
        params: { path: { project_id: projectId, job_id }, query: { page_size: 100, page_token, sort: "created_at" } },
      }),
    (page) => page.job_runs,
  );
}

const seconds = (run: Schemas["JobRun"] | undefined) =>
  run?.running_at && run.finished_at
    ? `${((Date.parse(run.finished_at) - Date.parse(run.running_at)) / 1000).toFixed(1)} s`
    : "?";

/** Waits for the n-th run (1-based) of a job to finish; returns it. */
async function finishedRun(name: string, n: number, timeoutMs: number): Promise<Schemas["JobRun"]> {
  const runs = await waitFor(() => runsOf(name), {
    what: `run ${n} of ${name} to finish`,
    status: (rs) => rs[n - 1]?.status ?? `${rs.length} runs`,
    until: (rs) =>
      ["ENGINE_SUCCEEDED", "ENGINE_FAILED", "ENGINE_STOPPED", "ENGINE_TIMEDOUT"].includes(rs[n - 1]?.status ?? ""),
    timeoutMs,
    intervalMs: 500,
  });
  return runs[n - 1] as Schemas["JobRun"];
}

beforeAll(async () => {
  timings.push(`start: ${load()}`);
  dist = await startNodeDist();
  const up = await localUp({ dataDir });
  api = createCmlClient({
    baseUrl: up.record.apiUrl,
    apiKey: readFileSync(resolve(dataDir, up.record.apiKeyFile), "utf8").trim(),
  });
}, 120_000);

afterAll(async () => {
  await localDown(dataDir).catch(() => undefined);
  await dist?.close();
  rmSync(home, { recursive: true, force: true });
  console.log(`stock runtime install path (2 cores shared):\n  ${timings.join("\n  ")}`);
});

describe("the lab on the stock runtime, installed by its install job", () => {
  it("apply runs the install job (Node from 127.0.0.1, SHA-256 checked; npm ci) before the apps and the model", async () => {
    const started = Date.now();
    const applied = await deployCli(["apply", manifest, "--var", `node_url=${dist.url}`]);
    timings.push(`whole apply (first): ${((Date.now() - started) / 1000).toFixed(1)} s; ${load()}`);
    expect(applied.code, applied.out).toBe(0);
    expect(applied.out).toMatch(/Plan: 20 to create, 0 to update, 0 to recreate, 0 to delete/);
    expect(applied.out).toContain("jobs.install to succeed");
    expect(applied.out).toMatch(/Apply: 20 created, .* 0 failed/);
    appUrl = /applications\.chat: (http\S+)/.exec(applied.out)?.[1] ?? "";
    expect(appUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    projectId = (await findOneByName(api, "project", { name: "LLM Hands-on Lab" }))?.id ?? "";

    const installs = await runsOf("install");
    expect(installs.map((r) => r.status)).toEqual(["ENGINE_SUCCEEDED"]);
    timings.push(`install job, first run: ${seconds(installs[0])} (Node unpack + npm ci --omit=dev from the cache)`);
    const text = String(
      await rawRequest(api, {
        method: "GET",
        path: `/projects/${projectId}/jobs/${await jobId("install")}/runs/${installs[0]?.id}/logs`,
      }),
    );
    expect(text).toContain(`node: SHA-256 ${dist.sha256} matches`);
    expect(text).toContain(`node: ${process.version} installed in .cml-lab/node`);
    expect(text).toContain("cml-lab is installed");
    expect(dist.requests.get(new URL(dist.url).pathname)).toBe(1);
  }, 600_000);

  it("a job on the stock runtime has no node of its own: only the install job's copy in the project", async () => {
    await uploadProjectFile(api, projectId, "probe.sh", "node --version\n");
    const job = await unwrap(
      api.POST("/api/v2/projects/{project_id}/jobs", {
        params: { path: { project_id: projectId } },
        body: { name: "probe", script: "probe.sh", runtime_identifier: PYTHON },
      }),
    );
    await unwrap(
      api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
        params: { path: { project_id: projectId, job_id: job.id ?? "" } },
        body: {},
      }),
    );
    expect((await finishedRun("probe", 1, 30_000)).status).toBe("ENGINE_FAILED");
    await unwrap(
      api.DELETE("/api/v2/projects/{project_id}/jobs/{job_id}", {
        params: { path: { project_id: projectId, job_id: job.id ?? "" } },
      }),
    );
  }, 60_000);

  it("scrape → populate-chroma run on the installed toolkit, and the chat app answers from them", async () => {
    const run = await deployCli(["run", "scrape", manifest, "--wait", "--var", `node_url=${dist.url}`]);
    expect(run.code, run.out).toBe(0);
    expect((await finishedRun("populate-chroma", 1, 120_000)).status).toBe("ENGINE_SUCCEEDED");
    await waits.applicationRunning(api, projectId, await appId("chat"), { timeoutMs: 30_000 });
    const response = await fetch(`${appUrl}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        question: "How do I create a virtual environment?",
        model: "offline",
        store: "chroma",
        temperature: 0.2,
        maxTokens: 400,
      }),
    });
    expect(response.status).toBe(200);
    const events = await response.text();
    expect(events).toContain("/tutorial/venv.html");
    expect(events).toContain("event: done");
  }, 180_000);

  it("the model runs on the project's node", async () => {
    const models = await unwrap(
      api.GET("/api/v2/projects/{project_id}/models", { params: { path: { project_id: projectId } } }),
    );
    const model = models.models?.find((m) => m.name === "answerer");
    const modelServiceUrl = JSON.parse(readFileSync(join(dataDir, "server.json"), "utf8")).modelServiceUrl;
    const answer = await fetch(`${modelServiceUrl}/model`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        accessKey: model?.access_key,
        request: {
          question: "What does the for statement do?",
          sources: [{ text: "The for statement iterates over the items of any sequence.", title: "for" }],
        },
      }),
    });
    const body = (await answer.json()) as { success: boolean; response?: { answer?: string } };
    expect(body.success, JSON.stringify(body)).toBe(true);
    expect(body.response?.answer).toBeTruthy();
  }, 60_000);

  it("a re-apply changes nothing and does not install again; a re-run of the install job is quick and idempotent", async () => {
    const started = Date.now();
    const again = await deployCli(["apply", manifest, "--var", `node_url=${dist.url}`]);
    timings.push(`whole apply (again, nothing to do): ${((Date.now() - started) / 1000).toFixed(1)} s; ${load()}`);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/Plan: 0 to create, 0 to update, 0 to recreate, 0 to delete, \d+ unchanged/);
    expect((await runsOf("install")).length).toBe(1);

    const scrapes = (await runsOf("scrape")).length;
    const rerun = await deployCli(["run", "install", manifest, "--wait", "--var", `node_url=${dist.url}`]);
    expect(rerun.code, rerun.out).toBe(0);
    const second = await finishedRun("install", 2, 60_000);
    expect(second.status).toBe("ENGINE_SUCCEEDED");
    timings.push(`install job, re-run (nothing to do): ${seconds(second)}; ${load()}`);
    expect(dist.requests.get(new URL(dist.url).pathname)).toBe(1);
    // Every other job runs after it: scrape starts when the install succeeds (CML's dependent jobs).
    await waitFor(() => runsOf("scrape"), {
      what: "scrape to start after the install",
      status: (rs) => `${rs.length} runs`,
      until: (rs) => rs.length > scrapes,
      timeoutMs: 30_000,
      intervalMs: 250,
    });
  }, 180_000);

  it("destroy removes the project and everything it runs", async () => {
    const destroyed = await deployCli(["destroy", manifest, "--auto-approve", "--var", `node_url=${dist.url}`]);
    expect(destroyed.code, destroyed.out).toBe(0);
    await expect(fetch(`${appUrl}/healthz`)).rejects.toThrow();
  }, 120_000);
});

async function appId(name: string): Promise<string> {
  const apps = await unwrap(
    api.GET("/api/v2/projects/{project_id}/applications", { params: { path: { project_id: projectId } } }),
  );
  return apps.applications?.find((a) => a.name === name)?.id ?? "";
}
