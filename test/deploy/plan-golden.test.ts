// biome-ignore-all lint/suspicious/noTemplateCurlyInString: manifest syntax in strings.
/**
 * Golden files for `deploy plan` output, text and JSON, against the local platform: a fresh workspace (all
 * create) and one field edited on the server (exactly that field). Ids, ports, hashes and the fingerprint are
 * normalised; regenerate with UPDATE=1 and review the diff.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findOneByName, unwrap } from "../../src/client/index.js";
import { main } from "../../src/deploy/main.js";
import type { CliIo } from "../../src/shared/io.js";
import { startTestPlatform, type TestPlatform } from "../local/helpers.js";

const root = join(import.meta.dirname, "../..");
const GOLDEN = join(import.meta.dirname, "fixtures/plans");
const MANIFEST = "manifests/examples/jobs-and-app.yaml";

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
}, 30_000);
afterAll(() => t.close());

async function deploy(args: string[]) {
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
    env: { CML_API_URL: t.platform.apiUrl, CML_API_KEY: t.platform.apiKey, CML_LAB_VAR_suffix: "golden" },
    cwd: root,
  };
  const code = await main([...args, MANIFEST, "--target", "workspace"], io);
  return { code, out, err };
}

function normalise(text: string): string {
  return text
    .replaceAll(t.platform.apiUrl, "http://127.0.0.1:PORT")
    .replace(/\b[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}\b/g, "ID")
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "UUID")
    .replace(/"fingerprint": "[0-9a-f]+"/g, '"fingerprint": "FINGERPRINT"')
    .replace(/sha256:[0-9a-f]+/g, "sha256:HASH")
    .replace(/"salt": "[0-9a-f]+"/g, '"salt": "SALT"')
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:PORT");
}

function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE || !existsSync(file)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, "utf8"));
}

describe("deploy plan output (golden)", () => {
  it("on an empty workspace: everything to create, exit 2 with --detailed-exitcode", async () => {
    const text = await deploy(["plan", "--detailed-exitcode"]);
    expect(text.code).toBe(2);
    golden("fresh.text.golden", normalise(text.out));
    const json = await deploy(["plan", "--json"]);
    expect(json.code).toBe(0);
    expect(json.err).toContain("Plan: 6 to create");
    golden("fresh.json.golden", normalise(JSON.stringify(JSON.parse(json.out), null, 2)));
  }, 60_000);

  it("after apply, one field edited on the server shows as exactly that field", async () => {
    const applied = await deploy(["apply"]);
    expect(applied.code, applied.out).toBe(0);
    const project = await findOneByName(t.api, "project", { name: "Hello golden" });
    const job = await findOneByName(t.api, "job", { projectId: project?.id ?? "", name: "prepare" });
    await unwrap(
      t.api.PATCH("/api/v2/projects/{project_id}/jobs/{job.id}", {
        params: { path: { project_id: project?.id ?? "", "job.id": job?.id ?? "" } },
        body: { arguments: "--out data/edited-by-hand.txt" },
      }),
    );
    const text = await deploy(["plan", "--detailed-exitcode"]);
    expect(text.code).toBe(2);
    golden("drift.text.golden", normalise(text.out));
    const json = await deploy(["plan", "--json"]);
    golden("drift.json.golden", normalise(JSON.stringify(JSON.parse(json.out), null, 2)));
  }, 90_000);
});
