/**
 * Applications and models through apply against the local platform: created and running/serving, a no-op
 * re-plan, an app script change = one update (PATCH + restart) that serves the new response, a model source change =
 * new build + deployment only, and destroy. Also: a failing node skips its dependents and independent ones go on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrap } from "../../../src/client/index.js";
import { startTestPlatform, type TestPlatform } from "../../local/helpers.js";
import { deploy, writeTree } from "./harness.js";

const MANIFEST = (greeting: string) => `name: apps-models
project:
  name: "Apps And Models"
targets:
  test: { default: true, url: "\${env:CML_API_URL}" }
defaults:
  runtime: { editor: PBJ Workbench, kernel: Python 3.11, edition: Standard }
  cpu: 1
  memory: 1
files:
  - { from: src, to: src }
applications:
  web:
    subdomain: web-engine-test
    script: src/serve.py
    env:
      GREETING: "${greeting}"
      MODEL_KEY: \${resources.models.echo.access_key}
models:
  echo:
    file: src/model.py
    function: predict
    auth_enabled: false
`;

const SERVE = `import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = os.environ.get("GREETING", "?").encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(os.environ["CDSW_APP_PORT"])), H).serve_forever()
`;
const MODEL = (suffix: string) => `def predict(args):\n    return {"echo": args["text"] + "${suffix}"}\n`;

let tp: TestPlatform;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  tp = await startTestPlatform();
  env = { CML_API_URL: tp.platform.apiUrl, CML_API_KEY: tp.platform.apiKey };
});
afterAll(async () => {
  await tp?.close();
});

async function get(url: string): Promise<string> {
  return (await fetch(url)).text();
}

async function callModel(accessKey: string, request: unknown): Promise<unknown> {
  const r = await fetch(`${tp.platform.modelServiceUrl}/model`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ accessKey, request }),
  });
  return r.json();
}

describe("applications and models (local platform)", () => {
  it("creates, re-plans empty, updates only what changed, destroys", async () => {
    const dir = writeTree({ "lab.yaml": MANIFEST("hello"), "src/serve.py": SERVE, "src/model.py": MODEL("!") });
    const first = await deploy(["apply", "lab.yaml"], env, dir);
    expect(first.code, first.out + first.err).toBe(0);
    expect(first.out).toMatch(/Apply: 6 created, 0 updated, 0 recreated, 0 deleted, 0 unchanged, 0 failed/);
    const url = /applications\.web: (http\S+)/.exec(first.out)?.[1];
    expect(url).toBeDefined();
    expect(await get(url ?? "")).toBe("hello");

    const again = await deploy(["plan", "lab.yaml", "--detailed-exitcode"], env, dir);
    expect(again.out).toBe("Plan: 0 to create, 0 to update, 0 to recreate, 0 to delete, 6 unchanged.\n");
    expect(again.code).toBe(0);

    const planJson = JSON.parse((await deploy(["plan", "lab.yaml", "--json"], env, dir)).out);
    const modelId = planJson.entries.find((e: { key: string }) => e.key === "models.echo").id;
    const project_id = planJson.entries.find((e: { key: string }) => e.key === "project").id;
    const model = await unwrap(
      tp.api.GET("/api/v2/projects/{project_id}/models/{model_id}", {
        params: { path: { project_id, model_id: modelId } },
      }),
    );
    const accessKey = model.access_key ?? "";
    expect(await callModel(accessKey, { text: "hi" })).toMatchObject({ success: true, response: { echo: "hi!" } });

    // App: one env change → one update, PATCH + one restart, and the running app serves the new value.
    writeTree({ "lab.yaml": MANIFEST("bonjour") }, dir);
    const changed = await deploy(["apply", "lab.yaml"], env, dir);
    expect(changed.out).toMatch(/Apply: 0 created, 1 updated, 0 recreated, 0 deleted, 5 unchanged, 0 failed/);
    expect(changed.out).toContain('env.GREETING: "hello" → "bonjour"');
    expect(await get(url ?? "")).toBe("bonjour");

    // Model: a source change → the file, a new build and a new deployment; the model itself is unchanged.
    writeTree({ "src/model.py": MODEL("?") }, dir);
    const rebuilt = await deploy(["apply", "lab.yaml"], env, dir);
    expect(rebuilt.code, rebuilt.out).toBe(0);
    expect(rebuilt.out).toMatch(/Apply: 0 created, 3 updated, 0 recreated, 0 deleted, 3 unchanged, 0 failed/);
    expect(rebuilt.out).toContain("~ models.echo.build");
    expect(rebuilt.out).toContain("~ models.echo.deployment");
    expect(await callModel(accessKey, { text: "hi" })).toMatchObject({ success: true, response: { echo: "hi?" } });
    const after = JSON.parse((await deploy(["plan", "lab.yaml", "--json"], env, dir)).out);
    expect(after.entries.every((e: { action: string }) => e.action === "skip")).toBe(true);

    // Logs of an application and of a model deployment come through the local platform's log extension.
    const appLogs = await deploy(["logs", "app", "web", "lab.yaml"], env, dir);
    expect(appLogs.code, appLogs.err).toBe(0);
    const modelLogs = await deploy(["logs", "model", "echo", "lab.yaml"], env, dir);
    expect(modelLogs.code, modelLogs.err).toBe(0);
    expect((await deploy(["logs", "model", "nope", "lab.yaml"], env, dir)).err).toMatch(/no model nope/);

    // One name per object: destroy calls each object by its manifest key, as apply and plan do (the app's key is
    // `web`, its subdomain `web-engine-test`).
    const destroyed = await deploy(["destroy", "lab.yaml", "--auto-approve", "--json"], env, dir);
    expect(destroyed.code, destroyed.out + destroyed.err).toBe(0);
    const destroyPlan = JSON.parse(destroyed.out.split("\n")[0] ?? "").plan;
    const destroyKeys = destroyPlan.entries.map((e: { key: string }) => e.key).sort();
    const applyKeys = after.entries.map((e: { key: string }) => e.key).filter((k: string) => destroyKeys.includes(k));
    expect(destroyKeys).toEqual(["applications.web", "models.echo", "project"]);
    expect(applyKeys.sort()).toEqual(destroyKeys);
    const twice = await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
    expect(twice.out).toContain("Nothing to do.");
  });

  it("skips the dependents of a failed node and carries on with independent ones", async () => {
    const dir = writeTree({
      "lab.yaml": `name: failing
project: { name: "Failing" }
targets:
  test: { default: true, url: "\${env:CML_API_URL}" }
defaults:
  runtime: { editor: PBJ Workbench, kernel: Python 3.11, edition: Standard }
files:
  - { from: src, to: src }
jobs:
  ok: { script: src/ok.py }
models:
  broken:
    file: src/ok.py
    function: missing_function
    auth_enabled: false
`,
      "src/ok.py": "print('ok')\n",
    });
    const r = await deploy(["apply", "lab.yaml", "--json"], env, dir);
    expect(r.code).toBe(1);
    const events = r.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const summary = events.find((e) => e.type === "summary");
    expect(summary.failures.map((f: { key: string }) => f.key)).toEqual(["models.broken.build"]);
    expect(summary.failures[0].error).toMatch(/cannot update models.broken.build|cannot create models.broken.build/);
    expect(summary.failures[0].error).toMatch(/previous deployment \(if any\) keeps serving/);
    expect(summary.skipped).toEqual([
      { key: "models.broken.deployment", reason: "dependency failed: models.broken.build" },
    ]);
    expect(summary.counts.created).toBe(4);
    await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
  });
  it("--parallelism bounds requests, not resources: jobs finish while a slow app is still starting", async () => {
    // The app listens only after 3 s. With one request in flight at a time, a slot held for the whole wait
    // would queue every job behind the app; the jobs must be done long before the app is.
    const slow = `import time\ntime.sleep(3)\n${SERVE}`;
    const dir = writeTree({
      "lab.yaml": `name: slots
project: { name: "Slots" }
targets:
  test: { default: true, url: "\${env:CML_API_URL}" }
defaults:
  runtime: { editor: PBJ Workbench, kernel: Python 3.11, edition: Standard }
files:
  - { from: src, to: src }
applications:
  slow: { subdomain: slots-slow, script: src/slow.py }
jobs:
  a: { script: src/ok.py }
  b: { script: src/ok.py }
  c: { script: src/ok.py, after: b }
`,
      "src/slow.py": slow,
      "src/ok.py": "print('ok')\n",
    });
    const r = await deploy(["apply", "lab.yaml", "--json", "--parallelism", "1"], env, dir);
    expect(r.code, r.out + r.err).toBe(0);
    const done = r.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === "resource.done")
      .map((e) => e.key);
    const app = done.indexOf("applications.slow");
    expect(app).toBeGreaterThan(-1);
    for (const job of ["jobs.a", "jobs.b", "jobs.c"]) expect(done.indexOf(job)).toBeLessThan(app);
    await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
  });
});
