// biome-ignore-all lint/suspicious/noTemplateCurlyInString: manifest references are ${…} in plain strings.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrap } from "../../src/client/index.js";
import { main } from "../../src/deploy/main.js";
import type { CliIo } from "../../src/shared/io.js";
import { NODE, readyProject, startTestPlatform, type TestPlatform, upload } from "../local/helpers.js";
import { writeTree } from "./manifest/helpers.js";

// A project built by hand (as the lab is in the UI) comes under deploy's management through import + --adopt.
const SECRET = "import-canary-s3cr3t";
let t: TestPlatform;
let dir = "";

async function deploy(argv: string[]) {
  let out = "";
  let err = "";
  const io: CliIo = {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    isTTY: false,
    env: { CML_API_URL: t.platform.apiUrl, CML_API_KEY: t.platform.apiKey, PINECONE_API_KEY: SECRET },
    cwd: dir,
  };
  const code = await main(argv, io);
  return { code, out, err };
}

beforeAll(async () => {
  t = await startTestPlatform();
  dir = writeTree({});
  const p = await readyProject(t.api, "Hand Built Lab");
  await upload(t.api, p, {
    "scrape.py": "print('scrape')\n",
    "apps/chat.mjs":
      'import http from "node:http";\nhttp.createServer((q, r) => r.end("ok")).listen(Number(process.env.CDSW_APP_PORT), "127.0.0.1");\n',
  });
  const body = { runtime_identifier: NODE, cpu: 1, memory: 2 };
  const scrape = await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/jobs", {
      params: { path: { project_id: p } },
      body: { ...body, name: "Scrape docs", script: "scrape.py", arguments: "--links html_links.txt" },
    }),
  );
  await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/jobs", {
      params: { path: { project_id: p } },
      body: {
        ...body,
        name: "populate",
        script: "scrape.py",
        parent_id: scrape.id ?? "",
        environment: { PINECONE_API_KEY: SECRET, INDEX: "lab" },
      },
    }),
  );
  await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/applications", {
      params: { path: { project_id: p } },
      body: { ...body, name: "chat", subdomain: "hand-chat", script: "apps/chat.mjs", environment: { MODE: "final" } },
    }),
  );
}, 60_000);
afterAll(() => t.close());

describe("deploy import", () => {
  it("writes a valid manifest that, once adopted, plans as unchanged; secrets are referenced, never written", async () => {
    const imported = await deploy(["import", "--project", "Hand Built Lab"]);
    expect(imported.code, imported.err).toBe(0);
    expect(imported.out).not.toContain(SECRET);
    expect(imported.out).toContain("${secret:PINECONE_API_KEY}");
    expect(imported.out).toContain("after: Scrape-docs");
    const file = join(dir, "imported.yaml");
    writeFileSync(file, imported.out);

    const valid = await deploy(["validate", "imported.yaml"]);
    expect(valid.code, valid.out + valid.err).toBe(0);

    const adopted = await deploy(["apply", "imported.yaml", "--adopt", "--wait-timeout", "30"]);
    expect(adopted.code, adopted.out + adopted.err).toBe(0);
    expect(adopted.out + adopted.err).not.toContain(SECRET);

    const planned = await deploy(["plan", "imported.yaml", "--detailed-exitcode"]);
    expect(planned.code, planned.out + planned.err).toBe(0);
    expect(planned.out).toContain("0 to create, 0 to update, 0 to recreate, 0 to delete");
  }, 90_000);

  it("writes references for variables a --manifest marks ${secret:…} and for every secret-named variable", async () => {
    const ENDPOINT = "https://private-endpoint.example/v1/canary-url";
    const p = await readyProject(t.api, "Secret Env Lab");
    await upload(t.api, p, { "run.py": "print('run')\n" });
    await unwrap(
      t.api.POST("/api/v2/projects/{project_id}/jobs", {
        params: { path: { project_id: p } },
        body: {
          runtime_identifier: NODE,
          cpu: 1,
          memory: 2,
          name: "query",
          script: "run.py",
          environment: {
            CML_LAB_OPENAI_BASE_URL: ENDPOINT,
            CML_LAB_OPENAI_MODEL: "private-model-canary",
            DB_CREDENTIAL: `${SECRET}-db`,
            AWS_ACCESS_KEY_ID: `${SECRET}-aws`,
            MODE: "plain",
          },
        },
      }),
    );
    writeFileSync(
      join(dir, "marks.yaml"),
      [
        "name: marks",
        "project: { name: Secret Env Lab }",
        "jobs:",
        "  query:",
        "    script: run.py",
        "    env:",
        "      CML_LAB_OPENAI_BASE_URL: ${secret:CML_LAB_OPENAI_BASE_URL?}",
        "      CML_LAB_OPENAI_MODEL: ${secret:OPENAI_MODEL}",
        "",
      ].join("\n"),
    );
    const imported = await deploy(["import", "--project", "Secret Env Lab", "--manifest", "marks.yaml"]);
    expect(imported.code, imported.err).toBe(0);
    for (const value of [ENDPOINT, "private-model-canary", SECRET]) expect(imported.out).not.toContain(value);
    for (const key of ["CML_LAB_OPENAI_BASE_URL", "CML_LAB_OPENAI_MODEL", "DB_CREDENTIAL", "AWS_ACCESS_KEY_ID"])
      expect(imported.out).toContain(`${key}: \${secret:${key}}`);
    expect(imported.out).toContain("MODE: plain");
  });

  it("names a project that does not exist", async () => {
    const missing = await deploy(["import", "--project", "Nope"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no project named "Nope"');
  });
});
