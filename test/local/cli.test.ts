import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCmlClient, unwrap, waits } from "../../src/client/index.js";
import { resolveConnection } from "../../src/deploy/connection.js";
import { main } from "../../src/deploy/main.js";
import type { CliIo } from "../../src/shared/io.js";
import { alive, PYTHON, upload } from "./helpers.js";

function bufferIo(cwd: string): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    isTTY: false,
    env: {},
    cwd,
    stdout: (text: string) => {
      io.out += text;
    },
    stderr: (text: string) => {
      io.err += text;
    },
  };
  return io;
}

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "cml-local-cli-"));
});
afterAll(async () => {
  await main(["local", "down"], bufferIo(cwd));
  await rm(cwd, { recursive: true, force: true });
});

async function deploy(...argv: string[]) {
  const io = bufferIo(cwd);
  const code = await main(argv, io);
  return { code, out: io.out, err: io.err };
}

describe("deploy local", () => {
  it("up (idempotent) → status → logs → down → up keeps state; the key file is 0600", async () => {
    const up = await deploy("local", "up");
    expect(up.code, up.err).toBe(0);
    expect(up.out).toMatch(/^started: http:\/\/127\.0\.0\.1:\d+ \(pid \d+\)/);
    const again = await deploy("local", "up");
    expect(again.out).toMatch(/^already running: /);

    const status = await deploy("local", "status", "--json");
    const record: { apiUrl: string; apiKey: string; dataDir: string; pid: number } = JSON.parse(status.out);
    expect(record.dataDir).toBe(join(cwd, ".cml-local"));
    expect(up.out).toContain(record.apiUrl);
    expect(up.out).not.toContain(record.apiKey);
    expect((await stat(join(cwd, ".cml-local", "api-key"))).mode & 0o777).toBe(0o600);

    // What every other deploy command does to find the platform.
    const connection = await resolveConnection({ target: "local", env: {}, cwd });
    expect(connection).toMatchObject({ baseUrl: record.apiUrl, apiKey: record.apiKey });
    const api = createCmlClient({ baseUrl: connection.baseUrl, apiKey: connection.apiKey });
    const project = await unwrap(api.POST("/api/v2/projects", { body: { name: "cli" } }));
    const p = project.id ?? "";
    await waits.projectReady(api, p, { intervalMs: 50 });
    await upload(api, p, { "hi.py": "print('hello from the cli test')" });
    const job = await unwrap(
      api.POST("/api/v2/projects/{project_id}/jobs", {
        params: { path: { project_id: p } },
        body: { name: "hi", script: "hi.py", runtime_identifier: PYTHON },
      }),
    );
    const run = await unwrap(
      api.POST("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
        params: { path: { project_id: p, job_id: job.id ?? "" } },
        body: {},
      }),
    );
    await waits.jobRunFinished(api, p, job.id ?? "", run.id ?? "", { intervalMs: 50 });
    const logs = await deploy("local", "logs", "job", "hi");
    expect(logs.out).toContain("hello from the cli test");

    const down = await deploy("local", "down");
    expect(down.out).toBe(`stopped (pid ${record.pid})\n`);
    expect(alive(record.pid)).toBe(false);
    const after = await deploy("local", "status");
    expect(after.code).toBe(1);
    expect(after.out).toContain("not running");

    expect((await deploy("local", "up")).code).toBe(0);
    const status2: { apiUrl: string; apiKey: string } = JSON.parse((await deploy("local", "status", "--json")).out);
    expect(status2.apiKey).toBe(record.apiKey);
    const api2 = createCmlClient({ baseUrl: status2.apiUrl, apiKey: status2.apiKey });
    const kept = await unwrap(
      api2.GET("/api/v2/projects/{project_id}/jobs/{job_id}", {
        params: { path: { project_id: p, job_id: job.id ?? "" } },
      }),
    );
    expect(kept.name).toBe("hi");
  });
});
