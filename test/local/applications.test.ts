import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CmlClient, isApiError, unwrap, waits } from "../../src/client/index.js";
import { alive, PYTHON, readyProject, startTestPlatform, type TestPlatform, upload } from "./helpers.js";

let t: TestPlatform;
beforeEach(async () => {
  t = await startTestPlatform();
});
afterEach(async () => {
  await t.close();
  expect(t.specProblems).toEqual([]);
});

const NODE_APP = `
import http from "node:http";
http.createServer((req, res) => res.end("v1 " + process.env.GREETING + " pid=" + process.pid))
  .listen(Number(process.env.CDSW_APP_PORT), "127.0.0.1");
`;
const PY_APP = `
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("v2 " + os.environ.get("GREETING", "") + " pid=" + str(os.getpid())).encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(os.environ["CDSW_APP_PORT"])), H).serve_forever()
`;

async function endpoint(projectId: string, appId: string): Promise<{ url: string; port: number }> {
  const response = await fetch(`${t.platform.apiUrl}/api/v2/projects/${projectId}/applications/${appId}/endpoint`, {
    headers: { Authorization: `Bearer ${t.platform.apiKey}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { url: string; port: number };
}

async function running(api: CmlClient, projectId: string, appId: string) {
  return waits.applicationRunning(api, projectId, appId, { timeoutMs: 20_000, intervalMs: 50 });
}

describe("applications", () => {
  it("create → running → answers on its port → restart picks up a patched script → stop frees the port", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, { "app.mjs": NODE_APP, "app2.py": PY_APP });
    const started = Date.now();
    const created = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/applications", {
        params: { path: { project_id: p } },
        body: {
          name: "chat",
          subdomain: "chat",
          script: "app.mjs",
          runtime_identifier: PYTHON,
          environment: { GREETING: "hello" },
        },
      }),
    );
    expect(created.status).toBe("APPLICATION_STARTING");
    const id = created.id ?? "";
    await running(t.api, p, id);
    const startMs = Date.now() - started;
    const { url, port } = await endpoint(p, id);
    const first = await (await fetch(url)).text();
    expect(first).toMatch(/^v1 hello pid=\d+$/);
    const firstPid = Number(first.split("pid=")[1]);

    const patched = await unwrap(
      t.api.PATCH("/api/v2/projects/{project_id}/applications/{application.id}", {
        params: { path: { project_id: p, "application.id": id } },
        body: { script: "app2.py", environment: JSON.stringify({ GREETING: "patched" }) },
      }),
    );
    expect(patched.script).toBe("app2.py");
    // Not restarted yet: the running process still serves the old script.
    expect(await (await fetch(url)).text()).toMatch(/^v1 hello/);

    await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/applications/{application_id}:restart", {
        params: { path: { project_id: p, application_id: id } },
      }),
    );
    await running(t.api, p, id);
    expect((await endpoint(p, id)).port).toBe(port);
    expect(await (await fetch(url)).text()).toMatch(/^v2 patched pid=\d+$/);
    expect(alive(firstPid)).toBe(false);
    const runningApps = await unwrap(
      t.api.GET("/api/v2/projects/{project_id}/applications", {
        params: { path: { project_id: p }, query: { search_filter: JSON.stringify({ status: "running" }) } },
      }),
    );
    expect(runningApps.applications?.map((a) => a.id)).toEqual([id]);

    const stopped = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/applications/{application_id}:stop", {
        params: { path: { project_id: p, application_id: id } },
      }),
    );
    expect(stopped.status).toBe("APPLICATION_STOPPED");
    await expect(fetch(url)).rejects.toThrow();
    expect(startMs).toBeLessThan(10_000);
  });

  it("marks an application whose process exits as APPLICATION_FAILED, with its output in the log", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, {
      "crash.py": "import sys\nprint('cannot start: missing config', file=sys.stderr)\nsys.exit(1)",
    });
    const app = await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/applications", {
        params: { path: { project_id: p } },
        body: { name: "bad", subdomain: "bad", script: "crash.py", runtime_identifier: PYTHON },
      }),
    );
    await expect(running(t.api, p, app.id ?? "")).rejects.toThrow(/APPLICATION_FAILED/);
    const logs = await fetch(`${t.platform.apiUrl}/api/v2/projects/${p}/applications/${app.id}/logs`, {
      headers: { Authorization: `Bearer ${t.platform.apiKey}` },
    });
    expect(await logs.text()).toContain("cannot start: missing config");
  });

  it("rejects a taken subdomain with 409 and a missing script with 400", async () => {
    const p = await readyProject(t.api);
    await upload(t.api, p, { "app.mjs": NODE_APP });
    const body = { name: "a", subdomain: "same", script: "app.mjs", runtime_identifier: PYTHON };
    await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/applications", { params: { path: { project_id: p } }, body }),
    );
    const statusOf = async (b: typeof body) => {
      try {
        await unwrap(
          t.api.POST("/api/v2/projects/{project_id}/applications", { params: { path: { project_id: p } }, body: b }),
        );
        return 200;
      } catch (error) {
        return isApiError(error) ? error.status : -1;
      }
    };
    expect(await statusOf({ ...body, name: "b" })).toBe(409);
    expect(await statusOf({ ...body, subdomain: "other", script: "nope.py" })).toBe(400);
    expect(await statusOf({ ...body, subdomain: "Not_DNS" })).toBe(400);
  });
});
