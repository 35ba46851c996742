/**
 * `after:` on applications and models: apply runs the job they wait for (an install job) before starting the
 * application and building the model, once per apply, and not again while nothing it reads changed. Against the
 * local platform, whose applications start at create as CML's do: without the gate the app below exits at once
 * (nothing installed) and the model's build fails to import.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAll, unwrap } from "../../../src/client/index.js";
import { startTestPlatform, type TestPlatform } from "../../local/helpers.js";
import { deploy, writeTree } from "./harness.js";

const MANIFEST = (greeting: string, after = "install") => `name: after-job
project:
  name: "After Job"
targets:
  test: { default: true, url: "\${env:CML_API_URL}" }
defaults:
  runtime: { editor: PBJ Workbench, kernel: Python 3.11, edition: Standard }
  cpu: 1
  memory: 1
files:
  - { from: src, to: src }
jobs:
  install: { script: src/install.py }
applications:
  web:
    subdomain: web-after-test
    script: src/serve.py
    after: ${after}
    env: { GREETING: "${greeting}" }
models:
  echo:
    file: src/model.py
    function: predict
    auth_enabled: false
    after: install
`;

// The "installation" is one line per run in the project's `installed` file; the app and the model need it to start.
const INSTALL = (code = 0) =>
  `import time\ntime.sleep(0.3)\nopen("installed", "a").write("x\\n")\nraise SystemExit(${code})\n`;
const SERVE = `import http.server, os
runs = len(open("installed").read().split())
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%s after %d install runs" % (os.environ["GREETING"], runs)).encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(os.environ["CDSW_APP_PORT"])), H).serve_forever()
`;
const MODEL = (version: number) =>
  `RUNS = len(open("installed").read().split())\ndef predict(args):\n    return {"runs": RUNS, "version": ${version}}\n`;

let tp: TestPlatform;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  tp = await startTestPlatform();
  env = { CML_API_URL: tp.platform.apiUrl, CML_API_KEY: tp.platform.apiKey };
});
afterAll(async () => {
  await tp?.close();
});

async function installRuns(dir: string): Promise<string[]> {
  const plan = JSON.parse((await deploy(["plan", "lab.yaml", "--json"], env, dir)).out);
  const project_id = plan.entries.find((e: { key: string }) => e.key === "project").id;
  const job_id = plan.entries.find((e: { key: string }) => e.key === "jobs.install").id;
  const runs = await listAll(
    (page_token) =>
      tp.api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
        params: { path: { project_id, job_id }, query: { page_size: 100, page_token, sort: "created_at" } },
      }),
    (page) => page.job_runs,
  );
  return runs.map((r) => r.status ?? "");
}

async function callModel(dir: string): Promise<unknown> {
  const plan = JSON.parse((await deploy(["plan", "lab.yaml", "--json"], env, dir)).out);
  const project_id = plan.entries.find((e: { key: string }) => e.key === "project").id;
  const model_id = plan.entries.find((e: { key: string }) => e.key === "models.echo").id;
  const model = await unwrap(
    tp.api.GET("/api/v2/projects/{project_id}/models/{model_id}", { params: { path: { project_id, model_id } } }),
  );
  const r = await fetch(`${tp.platform.modelServiceUrl}/model`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ accessKey: model.access_key, request: {} }),
  });
  return r.json();
}

describe("after: a job that applications and models wait for", () => {
  it("is run once before the app starts and the model builds, and again only when the synced files change", async () => {
    const dir = writeTree({
      "lab.yaml": MANIFEST("hello"),
      "src/install.py": INSTALL(),
      "src/serve.py": SERVE,
      "src/model.py": MODEL(1),
    });
    const first = await deploy(["apply", "lab.yaml"], env, dir);
    expect(first.code, first.out + first.err).toBe(0);
    expect(first.out).toMatch(/Apply: 7 created, 0 updated, 0 recreated, 0 deleted, 0 unchanged, 0 failed/);
    expect(await installRuns(dir)).toEqual(["ENGINE_SUCCEEDED"]);
    const url = /applications\.web: (http\S+)/.exec(first.out)?.[1] ?? "";
    expect(await (await fetch(url)).text()).toBe("hello after 1 install runs");
    expect(await callModel(dir)).toMatchObject({ success: true, response: { runs: 1, version: 1 } });

    // Nothing changed: nothing runs. The app's own change (its env) restarts it without installing again.
    const same = await deploy(["apply", "lab.yaml"], env, dir);
    expect(same.code, same.out + same.err).toBe(0);
    writeTree({ "lab.yaml": MANIFEST("bonjour") }, dir);
    const restarted = await deploy(["apply", "lab.yaml"], env, dir);
    expect(restarted.out).toMatch(/Apply: 0 created, 1 updated/);
    expect(await (await fetch(url)).text()).toBe("bonjour after 1 install runs");
    expect(await installRuns(dir)).toEqual(["ENGINE_SUCCEEDED"]);

    // A synced file changed (the model's source): the job runs again before the new build.
    writeTree({ "src/model.py": MODEL(2) }, dir);
    const rebuilt = await deploy(["apply", "lab.yaml"], env, dir);
    expect(rebuilt.code, rebuilt.out + rebuilt.err).toBe(0);
    expect(await installRuns(dir)).toEqual(["ENGINE_SUCCEEDED", "ENGINE_SUCCEEDED"]);
    expect(await callModel(dir)).toMatchObject({ success: true, response: { runs: 2, version: 2 } });

    // The job fails: the build waiting for it is not made, with the run's status and log; the old one serves on.
    writeTree({ "src/install.py": INSTALL(3), "src/model.py": MODEL(3) }, dir);
    const failed = await deploy(["apply", "lab.yaml"], env, dir);
    expect(failed.code).toBe(1);
    expect(failed.out + failed.err).toMatch(
      /cannot update models\.echo\.build: jobs\.install \(run \S+\) ended ENGINE_FAILED/,
    );
    expect(failed.out + failed.err).toMatch(/dependency failed: models\.echo\.build/);
    expect(await installRuns(dir)).toEqual(["ENGINE_SUCCEEDED", "ENGINE_SUCCEEDED", "ENGINE_FAILED"]);
    expect(await callModel(dir)).toMatchObject({ success: true, response: { version: 2 } });

    const destroyed = await deploy(["destroy", "lab.yaml", "--auto-approve"], env, dir);
    expect(destroyed.code, destroyed.out + destroyed.err).toBe(0);
  }, 120_000);

  it("must name a job of the manifest", async () => {
    const dir = writeTree({
      "lab.yaml": MANIFEST("hello", "instal"),
      "src/install.py": INSTALL(),
      "src/serve.py": SERVE,
      "src/model.py": MODEL(1),
    });
    const result = await deploy(["validate", "lab.yaml"], env, dir);
    expect(result.code).toBe(1);
    expect(result.out + result.err).toContain('applications.web.after names an unknown job "instal"');
    expect(result.out + result.err).toContain('did you mean "install"');
  });
});
