/**
 * A hostile client against the local platform: NUL and control characters in every string field that reaches a
 * process, a path or a log; project paths through symlinks of every kind; slow and aborted bodies. Every request
 * must answer (a hang is caught by a generous abort, not a timing assertion) with a status below 500, values no
 * process can take must be refused with a 400 that names the field, and the server must still serve afterwards.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrap, waits } from "../../src/client/index.js";
import { NODE, PYTHON, readyProject, startTestPlatform, type TestPlatform, upload } from "./helpers.js";

/** Generous bound on one request: only a hang (the dangling-link upload spun forever) ever reaches it. */
const HANG_MS = 20_000;
const HOSTILE = ["\u0000", "\u0001", "\u0007", "\t", "\n", "\r", "\u001b[31m", "\u007f"];

let t: TestPlatform;
let p: string;
let jobId: string;
let appId: string;
let modelId: string;
let buildId: string;
let outside: string;
let tried = 0;
const accepted: string[] = [];

beforeAll(async () => {
  t = await startTestPlatform();
  p = await readyProject(t.api, "hostile");
  await upload(t.api, p, {
    "ok.sh": "echo ok",
    "app.mjs": `import http from "node:http";
http.createServer((q, s) => s.end("up")).listen(Number(process.env.CDSW_APP_PORT), "127.0.0.1");`,
    "m.mjs": "export const f = (r) => r;",
    "sub/inner.txt": "inner",
  });
  const job = await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/jobs", {
      params: { path: { project_id: p } },
      body: { name: "j", script: "ok.sh", runtime_identifier: PYTHON },
    }),
  );
  jobId = job.id ?? "";
  const app = await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/applications", {
      params: { path: { project_id: p } },
      body: { name: "a", subdomain: "a", script: "app.mjs", runtime_identifier: NODE },
    }),
  );
  appId = app.id ?? "";
  const model = await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/models", {
      params: { path: { project_id: p } },
      body: { name: "m", project_id: p, description: "" },
    }),
  );
  modelId = model.id ?? "";
  const build = await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/models/{model_id}/builds", {
      params: { path: { project_id: p, model_id: modelId } },
      body: { file_path: "m.mjs", function_name: "f", runtime_identifier: NODE },
    }),
  );
  buildId = build.id ?? "";
  await waits.modelBuildBuilt(t.api, p, modelId, buildId, { intervalMs: 50 });

  // Symlinks of every kind inside the project, and a directory outside it that nothing may touch.
  outside = await mkdtemp(join(tmpdir(), "cml-local-outside-"));
  await writeFile(join(outside, "secret.txt"), "outside");
  const root = join(t.dataDir, "projects", p);
  await symlink("missing.txt", join(root, "dangling"));
  await symlink("missing-dir", join(root, "dangling-dir"));
  await symlink("self", join(root, "self"));
  await symlink("loop-b", join(root, "loop-a"));
  await symlink("loop-a", join(root, "loop-b"));
  await symlink(join(outside, "secret.txt"), join(root, "out-file"));
  await symlink(outside, join(root, "out-dir"));
  await symlink("sub", join(root, "in-dir"));
  await symlink("ok.sh", join(root, "chain-2"));
  await symlink("chain-2", join(root, "chain-1"));
  await symlink("out-dir", join(root, "chain-out"));
  await symlink("dangling", join(root, "chain-dangling"));
  await mkdir(join(root, "dir"));
  execFileSync("mkfifo", [join(root, "fifo")]);
});

afterAll(async () => {
  process.stdout.write(`hostile-client: ${tried} cases tried, ${accepted.length} accepted (no NUL among them)\n`);
  await t?.close();
  if (outside) await rm(outside, { recursive: true, force: true });
});

async function call(
  method: string,
  path: string,
  body?: unknown | FormData,
): Promise<{ status: number; text: string }> {
  tried++;
  const response = await fetch(`${t.platform.apiUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${t.platform.apiKey}`,
      ...(body === undefined || body instanceof FormData ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(HANG_MS),
  });
  return { status: response.status, text: await response.text() };
}

async function stillServing(): Promise<void> {
  const response = await fetch(`${t.platform.apiUrl}/api/v2/projects/${p}`, {
    headers: { Authorization: `Bearer ${t.platform.apiKey}` },
    signal: AbortSignal.timeout(HANG_MS),
  });
  expect(response.status).toBe(200);
  await response.text();
}

/** A JSON field that reaches a process, a path or a log, and how to send a value in it. */
interface Field {
  what: string;
  /** The field as the 400 must name it. */
  field: string;
  send: (value: string) => Promise<{ status: number; text: string }>;
}

const env = (key: string, value: string) => ({ [key]: value });
let unique = 0;
const name = (value: string) => `n${++unique}${value}`;

function fields(): Field[] {
  const projects = "/api/v2/projects";
  const jobs = `${projects}/${p}/jobs`;
  const apps = `${projects}/${p}/applications`;
  const models = `${projects}/${p}/models`;
  const builds = `${models}/${modelId}/builds`;
  const job = { script: "ok.sh", runtime_identifier: PYTHON };
  const app = { script: "app.mjs", runtime_identifier: NODE };
  return [
    { what: "CreateProject name", field: "body.name", send: (v) => call("POST", projects, { name: name(v) }) },
    {
      what: "CreateProject environment value",
      field: "body.environment.K",
      send: (v) => call("POST", projects, { name: name(""), environment: env("K", `x${v}y`) }),
    },
    {
      what: "CreateProject environment name",
      field: "body.environment",
      send: (v) => call("POST", projects, { name: name(""), environment: env(`K${v}`, "x") }),
    },
    {
      what: "UpdateProject name",
      field: "body.name",
      send: (v) => call("PATCH", `${projects}/${p}`, { name: name(v) }),
    },
    {
      what: "UpdateProject environment (raw)",
      field: "body.environment",
      send: (v) => call("PATCH", `${projects}/${p}`, { environment: `{"K":"x${v}"}` }),
    },
    {
      what: "UpdateProject environment (escaped)",
      field: "body.environment.K",
      send: (v) => call("PATCH", `${projects}/${p}`, { environment: JSON.stringify(env("K", `x${v}`)) }),
    },
    { what: "CreateJob name", field: "body.name", send: (v) => call("POST", jobs, { ...job, name: name(v) }) },
    {
      what: "CreateJob script",
      field: "body.script",
      send: (v) => call("POST", jobs, { ...job, name: name(""), script: `ok${v}.sh` }),
    },
    {
      what: "CreateJob arguments",
      field: "body.arguments",
      send: (v) => call("POST", jobs, { ...job, name: name(""), arguments: `--a ${v}` }),
    },
    {
      what: "CreateJob kernel",
      field: "body.kernel",
      send: (v) => call("POST", jobs, { ...job, name: name(""), kernel: `k${v}` }),
    },
    {
      what: "CreateJob environment value",
      field: "body.environment.K",
      send: (v) => call("POST", jobs, { ...job, name: name(""), environment: env("K", `x${v}`) }),
    },
    {
      what: "CreateJob environment name",
      field: "body.environment",
      send: (v) => call("POST", jobs, { ...job, name: name(""), environment: env(`${v}K`, "x") }),
    },
    { what: "UpdateJob name", field: "body.name", send: (v) => call("PATCH", `${jobs}/${jobId}`, { name: name(v) }) },
    {
      what: "UpdateJob script",
      field: "body.script",
      send: (v) => call("PATCH", `${jobs}/${jobId}`, { script: `${v}ok.sh` }),
    },
    {
      what: "UpdateJob arguments",
      field: "body.arguments",
      send: (v) => call("PATCH", `${jobs}/${jobId}`, { arguments: `a${v}` }),
    },
    {
      what: "UpdateJob environment",
      field: "body.environment.K",
      send: (v) => call("PATCH", `${jobs}/${jobId}`, { environment: JSON.stringify(env("K", `x${v}`)) }),
    },
    {
      what: "CreateJobRun arguments",
      field: "body.arguments",
      send: async (v) => runAndWait(await call("POST", `${jobs}/${jobId}/runs`, { arguments: `a${v}` })),
    },
    {
      what: "CreateJobRun environment",
      field: "body.environment.K",
      send: async (v) => runAndWait(await call("POST", `${jobs}/${jobId}/runs`, { environment: env("K", `x${v}`) })),
    },
    {
      what: "CreateApplication name",
      field: "body.name",
      send: (v) => call("POST", apps, { ...app, name: name(v), subdomain: `s${++unique}` }),
    },
    {
      what: "CreateApplication subdomain",
      field: "body.subdomain",
      send: (v) => call("POST", apps, { ...app, name: name(""), subdomain: `s${v}` }),
    },
    {
      what: "CreateApplication script",
      field: "body.script",
      send: (v) => call("POST", apps, { ...app, name: name(""), subdomain: `s${++unique}`, script: `app${v}.mjs` }),
    },
    {
      what: "CreateApplication environment",
      field: "body.environment.K",
      send: (v) => call("POST", apps, { ...app, name: name(""), subdomain: `s${++unique}`, environment: env("K", v) }),
    },
    {
      what: "UpdateApplication name",
      field: "body.name",
      send: (v) => call("PATCH", `${apps}/${appId}`, { name: name(v) }),
    },
    {
      what: "UpdateApplication kernel",
      field: "body.kernel",
      send: (v) => call("PATCH", `${apps}/${appId}`, { kernel: v }),
    },
    {
      what: "UpdateApplication environment + restart",
      field: "body.environment.K",
      send: async (v) => {
        const patched = await call("PATCH", `${apps}/${appId}`, { environment: JSON.stringify(env("K", `x${v}`)) });
        await call("POST", `${apps}/${appId}:restart`);
        return patched;
      },
    },
    {
      what: "CreateModel name",
      field: "body.name",
      send: (v) => call("POST", models, { name: name(v), project_id: p }),
    },
    {
      what: "CreateModelBuild file_path",
      field: "body.file_path",
      send: (v) => call("POST", builds, { file_path: `m${v}.mjs`, function_name: "f", runtime_identifier: NODE }),
    },
    {
      what: "CreateModelBuild function_name",
      field: "body.function_name",
      send: (v) => call("POST", builds, { file_path: "m.mjs", function_name: `f${v}`, runtime_identifier: NODE }),
    },
    {
      what: "CreateModelDeployment environment",
      field: "body.environment.K",
      send: (v) => call("POST", `${builds}/${buildId}/deployments`, { environment: env("K", `x${v}`) }),
    },
    {
      what: "UploadFile name",
      field: "path",
      send: (v) => {
        const form = new FormData();
        form.append(`up${v}.txt`, new Blob(["x"]), "up.txt");
        return call("POST", `${projects}/${p}/files`, form);
      },
    },
    {
      what: "ListProjectFiles path",
      field: "path",
      send: (v) => call("GET", `${projects}/${p}/files/${encodeURIComponent(`sub${v}`)}`),
    },
    {
      what: "DownloadProjectFile path",
      field: "path",
      send: (v) => call("POST", `${projects}/${p}/files/${encodeURIComponent(`ok${v}.sh`)}:download`),
    },
    {
      what: "DeleteProjectFile path",
      field: "path",
      send: (v) => call("DELETE", `${projects}/${p}/files/${encodeURIComponent(`gone${v}`)}`),
    },
  ];
}

function errorMessage(text: string): string {
  const body: unknown = JSON.parse(text);
  return typeof body === "object" && body !== null && "message" in body ? String(body.message) : "";
}

/** Whether text holds a control character other than tab (checked by code, so it cannot hide in an escape). */
function rawControl(text: string): boolean {
  return [...text].some((c) => {
    const code = c.charCodeAt(0);
    return (code < 0x20 && code !== 0x09) || code === 0x7f;
  });
}

/** A run that was accepted must also end, not take the server with it. */
async function runAndWait(answer: { status: number; text: string }): Promise<{ status: number; text: string }> {
  if (answer.status === 200) {
    const run: unknown = JSON.parse(answer.text);
    if (typeof run === "object" && run !== null && "id" in run && typeof run.id === "string")
      await waits.jobRunFinished(t.api, p, jobId, run.id, { intervalMs: 50 });
  }
  return answer;
}

describe("a hostile client of the local platform", () => {
  it("refuses NUL with a 400 naming the field, never answers 5xx, and keeps serving, for every field and control character", async () => {
    for (const field of fields()) {
      for (const value of HOSTILE) {
        const label = `${field.what} with ${JSON.stringify(value)}`;
        const answer = await field.send(value);
        expect(answer.status, `${label}: ${answer.text}`).toBeLessThan(500);
        if (value.includes("\u0000")) {
          expect(answer.status, label).toBe(400);
          expect(answer.text, label).toContain(field.field);
        } else if (answer.status === 200) {
          accepted.push(label);
        }
        // An error message never carries a raw control character into a terminal or a log.
        if (answer.status >= 400) expect(rawControl(errorMessage(answer.text)), `${label}: ${answer.text}`).toBe(false);
        await stillServing();
      }
    }
    // Values a process can take (tab, newline, escapes in environment values) still work: the app restarts with them.
    await waits.applicationRunning(t.api, p, appId, { intervalMs: 50 });
  }, 300_000);

  it("answers every file operation through symlinks of every kind within bounds and with 4xx, touching nothing outside", async () => {
    const links = [
      "dangling",
      "dangling-dir",
      "self",
      "loop-a",
      "out-file",
      "out-dir",
      "chain-out",
      "chain-dangling",
      "fifo",
    ];
    const base = `/api/v2/projects/${p}/files`;
    for (const link of links) {
      for (const path of [link, `${link}/x.txt`, `${link}/deeper/x.txt`]) {
        const form = new FormData();
        form.append(path, new Blob(["hostile"]), "x.txt");
        const uploaded = await call("POST", base, form);
        // A FIFO is a name already taken: the upload lands beside it as fifo(1), as for any taken name.
        if (path === "fifo") expect(uploaded.status, `upload ${path}: ${uploaded.text}`).toBe(200);
        else expect(uploaded.status, `upload ${path}: ${uploaded.text}`).toBe(400);
        const listed = await call("GET", `${base}/${encodeURIComponent(path)}`);
        // Listing a FIFO describes it (nothing is read); every other entry here is refused.
        if (path !== "fifo") expect(listed.status, `list ${path}: ${listed.text}`).toBeGreaterThanOrEqual(400);
        expect(listed.status, `list ${path}: ${listed.text}`).toBeLessThan(500);
        const downloaded = await call("POST", `${base}/${encodeURIComponent(path)}:download`);
        expect(downloaded.status, `download ${path}: ${downloaded.text}`).toBeGreaterThanOrEqual(400);
        expect(downloaded.status, `download ${path}: ${downloaded.text}`).toBeLessThan(500);
        await stillServing();
      }
    }
    // Links inside the project work as the files and directories they point to.
    const viaChain = await call("POST", `${base}/chain-1:download`);
    expect(viaChain).toEqual({ status: 200, text: "echo ok" });
    const viaDir = await call("GET", `${base}/in-dir`);
    expect(viaDir.status, viaDir.text).toBe(200);
    expect(viaDir.text).toContain("inner.txt");
    // The listing shows every link (so it can be deleted) without describing anything outside.
    const root = await call("GET", `${base}/${encodeURIComponent("/")}`);
    for (const link of links) expect(root.text).toContain(`"${link}"`);
    // Delete removes the links themselves, never their targets.
    for (const link of ["dangling", "dangling-dir", "self", "loop-a", "loop-b", "out-file", "out-dir", "chain-out"]) {
      const deleted = await call("DELETE", `${base}/${link}`);
      expect(deleted.status, `delete ${link}: ${deleted.text}`).toBe(200);
    }
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe("outside");
    await stillServing();
  }, 300_000);

  it("keeps serving while a body trickles in, and after bodies that are cut off", async () => {
    const { port } = new URL(t.platform.apiUrl);
    const raw = (head: string, body: string) =>
      new Promise<void>((resolve, reject) => {
        tried++;
        const socket = connect(Number(port), "127.0.0.1", () => {
          socket.write(head);
          socket.write(body, () => resolve());
        });
        socket.once("error", reject);
        // Cut off: the declared length is never reached; the socket is destroyed after the partial body.
        setTimeout(() => socket.destroy(), 200).unref();
      });
    const auth = `Authorization: Bearer ${t.platform.apiKey}\r\n`;
    for (const [path, type, partial] of [
      [`/api/v2/projects/${p}/jobs`, "application/json", '{"name": "cut'],
      [
        `/api/v2/projects/${p}/files`,
        "multipart/form-data; boundary=zz",
        '--zz\r\nContent-Disposition: form-data; name="f"',
      ],
      [`/api/v2/projects`, "application/json", ""],
    ] as const) {
      await raw(
        `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: ${type}\r\nContent-Length: 100000\r\n\r\n`,
        partial,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await stillServing();
    }
    // A slow body holds only its own request: others are answered meanwhile.
    tried++;
    const slow = connect(Number(port), "127.0.0.1");
    await new Promise((resolve) => slow.once("connect", resolve));
    slow.write(
      `POST /api/v2/projects HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{"na`,
    );
    for (let i = 0; i < 5; i++) {
      slow.write(" ");
      await stillServing();
    }
    slow.destroy();
    await stillServing();
  }, 120_000);
});
