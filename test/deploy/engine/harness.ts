/**
 * Runs `deploy …` in-process against a local platform over real HTTP, on a manifest written to a temp dir.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type CmlClient, listAll } from "../../../src/client/index.js";
import { executeCommand } from "../../../src/deploy/commands/apply.js";
import { main } from "../../../src/deploy/main.js";
import type { CliIo } from "../../../src/shared/io.js";

export function writeTree(files: Record<string, string>, dir = mkdtempSync(path.join(tmpdir(), "cml-lab-engine-"))) {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function deploy(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  io: Partial<Pick<CliIo, "isTTY" | "confirm">> = {},
): Promise<CliResult> {
  let out = "";
  let err = "";
  const cli: CliIo = {
    isTTY: false,
    ...io,
    env,
    cwd,
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
  };
  const code = await main(args, cli);
  return { code, out, err };
}

/** Everything in the workspace, by kind, for "no duplicates, no orphans" assertions. */
export async function inventory(api: CmlClient) {
  const projects = await listAll(
    (page_token) => api.GET("/api/v2/projects", { params: { query: { page_size: 100, page_token } } }),
    (p) => p.projects,
  );
  const jobs: string[] = [];
  const files: string[] = [];
  for (const p of projects) {
    const project_id = p.id ?? "";
    const list = await listAll(
      (page_token) =>
        api.GET("/api/v2/projects/{project_id}/jobs", { params: { path: { project_id }, query: { page_token } } }),
      (page) => page.jobs,
    );
    jobs.push(...list.map((j) => `${p.name}/${j.name}`));
    files.push(...(await listFiles(api, project_id, "/")).map((f) => `${p.name}/${f}`));
  }
  return { projects: projects.map((p) => p.name ?? ""), jobs: jobs.sort(), files: files.sort() };
}

async function listFiles(api: CmlClient, project_id: string, dir: string): Promise<string[]> {
  const { data } = await api.GET("/api/v2/projects/{project_id}/files/{path}", {
    params: { path: { project_id, path: dir } },
  });
  const out: string[] = [];
  for (const f of data?.files ?? []) {
    const full = dir === "/" ? (f.path ?? "") : `${dir}/${path.posix.basename(f.path ?? "")}`;
    if (f.is_dir) out.push(...(await listFiles(api, project_id, full)));
    else out.push(full);
  }
  return out;
}

/**
 * `deploy apply` in-process with a client that gives up quickly: after an injected crash every call is dropped,
 * and the default retry policy (meant for real networks) would spend seconds per call finding that out.
 */
export async function applyQuickly(env: NodeJS.ProcessEnv, cwd: string): Promise<CliResult> {
  let out = "";
  let err = "";
  const ctx = {
    exitCode: 0,
    io: {
      isTTY: false,
      env,
      cwd,
      stdout: (t: string) => {
        out += t;
      },
      stderr: (t: string) => {
        err += t;
      },
    },
  };
  const args = {
    manifest: "lab.yaml",
    "auto-approve": true,
    parallelism: 8,
    json: false,
    "detailed-exitcode": false,
    adopt: false,
    "lock-timeout": 30,
    "wait-timeout": 5,
  };
  try {
    await executeCommand(ctx, args, false, { retry: { retries: 1, minDelayMs: 5, maxDelayMs: 20 }, timeoutMs: 2_000 });
  } catch (error) {
    err += error instanceof Error ? error.message : String(error);
    return { code: 1, out, err };
  }
  return { code: ctx.exitCode, out, err };
}
