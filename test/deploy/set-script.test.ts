import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrap, waits } from "../../src/client/index.js";
import { main } from "../../src/deploy/main.js";
import type { CliIo } from "../../src/shared/io.js";
import { NODE, readyProject, startTestPlatform, type TestPlatform, upload } from "../local/helpers.js";

// `deploy app set-script` is the lab's last exercise and what CI pipelines run: the app must serve the new script.
const app = (version: string) => `
import http from "node:http";
http.createServer((req, res) => res.end("${version}")).listen(Number(process.env.CDSW_APP_PORT), "127.0.0.1");
`;

let t: TestPlatform;
let projectId = "";
let appId = "";

function cli(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    isTTY: false,
    env: { CML_API_URL: t.platform.apiUrl, CML_API_KEY: t.platform.apiKey },
    cwd: process.cwd(),
  };
  return main(argv, io).then((code) => ({ code, stdout, stderr }));
}

async function serving(): Promise<string> {
  const response = await fetch(`${t.platform.apiUrl}/api/v2/projects/${projectId}/applications/${appId}/endpoint`, {
    headers: { Authorization: `Bearer ${t.platform.apiKey}` },
  });
  const { url } = (await response.json()) as { url: string };
  return (await fetch(url)).text();
}

beforeAll(async () => {
  t = await startTestPlatform();
  projectId = await readyProject(t.api, "LLM Hands-on Lab");
  await upload(t.api, projectId, { "chat-v1.mjs": app("v1"), "chat-final.mjs": app("final") });
  const created = await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/applications", {
      params: { path: { project_id: projectId } },
      body: { name: "chat", subdomain: "llm-hol", script: "chat-v1.mjs", runtime_identifier: NODE, cpu: 1, memory: 1 },
    }),
  );
  appId = created.id ?? "";
  await waits.applicationRunning(t.api, projectId, appId, { timeoutMs: 20_000, intervalMs: 50 });
}, 60_000);
afterAll(() => t.close());

describe("deploy app set-script against the local platform", () => {
  it("refuses a script that is not in the project, and leaves the app alone", async () => {
    const result = await cli(["app", "set-script", "chat", "missing.mjs", "--project", "LLM Hands-on Lab"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("missing.mjs");
    expect(await serving()).toBe("v1");
  });

  it("names an unknown application", async () => {
    const result = await cli(["app", "set-script", "nope", "chat-final.mjs", "--project", "LLM Hands-on Lab"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"nope"');
  });

  it("re-points by subdomain, restarts once and the running app serves the new script", async () => {
    const result = await cli(["app", "set-script", "llm-hol", "chat-final.mjs", "--project", "LLM Hands-on Lab"]);
    expect(result.code, JSON.stringify(result.stderr)).toBe(0);
    expect(result.stdout).toContain("now runs chat-final.mjs");
    expect(await serving()).toBe("final");
    const live = await unwrap(
      t.api.GET("/api/v2/projects/{project_id}/applications/{application_id}", {
        params: { path: { project_id: projectId, application_id: appId } },
      }),
    );
    expect(live.script).toBe("chat-final.mjs");
    expect(live.status).toBe("APPLICATION_RUNNING");
  }, 60_000);

  it("is a no-op the second time", async () => {
    const result = await cli([
      "app",
      "set-script",
      "chat",
      "chat-final.mjs",
      "--project",
      "LLM Hands-on Lab",
      "--json",
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).script).toBe("chat-final.mjs");
    expect(await serving()).toBe("final");
  });

  it("with --no-restart patches only: the running app keeps serving the old script", async () => {
    const result = await cli([
      "app",
      "set-script",
      "chat",
      "chat-v1.mjs",
      "--project",
      "LLM Hands-on Lab",
      "--no-restart",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("after its next restart");
    expect(await serving()).toBe("final");
  });
});
