// biome-ignore-all lint/suspicious/noTemplateCurlyInString: manifest references are ${…} in plain strings.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrap } from "../../src/client/index.js";
import { main } from "../../src/deploy/main.js";
import type { CliIo } from "../../src/shared/io.js";
import { NODE, readyProject, startTestPlatform, type TestPlatform, upload } from "../local/helpers.js";
import { writeTree } from "./manifest/helpers.js";

// `validate --online` catches what would fail on the workspace before anything is changed.
const manifest = (edition: string, extra = "") => `name: online
project: { name: Online Demo, existing_paths: [tools/] }
targets:
  workspace: { default: true, url: "\${env:CML_API_URL}" }
defaults:
  runtime: { editor: PBJ Workbench, kernel: Python 3.11, edition: ${edition} }
files:
  - { from: src, to: src }
jobs:
  a: { script: src/a.py }
applications:
  web: { subdomain: online-web, script: src/a.py }
${extra}`;

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(() => t.close());

async function validate(text: string, key = t.platform.apiKey) {
  const dir = writeTree({ "m.yaml": text, "src/a.py": "print('a')\n" });
  let out = "";
  const io: CliIo = {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      out += s;
    },
    isTTY: false,
    env: { CML_API_URL: t.platform.apiUrl, CML_API_KEY: key },
    cwd: dir,
  };
  const code = await main(["validate", "m.yaml", "--online"], io);
  return { code, out };
}

describe("deploy validate --online", () => {
  it("passes a manifest the workspace can run", async () => {
    const r = await validate(manifest("Standard"));
    expect(r.out).toContain("is valid");
    expect(r.code).toBe(0);
  });

  it("reports a rejected API key without printing it", async () => {
    const r = await validate(manifest("Standard"), "wrong-key-canary");
    expect(r.code).toBe(1);
    expect(r.out).toContain("refused the API key");
    expect(r.out).not.toContain("wrong-key-canary");
  });

  it("locates a runtime the workspace does not have, naming what it does have", async () => {
    const r = await validate(manifest("Standrd"));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/m\.yaml:\d+:\d+: error: jobs\.a: .*Standrd/);
    expect(r.out).toContain("Standard");
  });

  it("finds an unsynced script missing from the project, and a subdomain held by an object that is not ours", async () => {
    const projectId = await readyProject(t.api, "Online Demo");
    await upload(t.api, projectId, { "src/a.py": "print('a')\n" });
    await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/applications", {
        params: { path: { project_id: projectId } },
        body: { name: "someone", subdomain: "online-web", script: "src/a.py", runtime_identifier: NODE },
      }),
    );
    const r = await validate(manifest("Standard", "  tool: { subdomain: online-tool, script: tools/run.py }\n"));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/applications\.tool: tools\/run\.py is not in project "Online Demo"/);
    expect(r.out).toMatch(/error: applications\.web .*(not ours|marker|adopt)/);
  }, 30_000);
});
