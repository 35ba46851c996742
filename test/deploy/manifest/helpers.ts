import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../../src/deploy/main.js";
import { type LoadResult, loadManifest } from "../../../src/deploy/manifest/index.js";
import type { CliIo } from "../../../src/shared/io.js";

export const FIXTURES = fileURLToPath(new URL("../fixtures/manifests/", import.meta.url));
/** A secret value that must never appear in any output. */
export const CANARY = "canary-5ecr3t-9f3a";
export const FIXTURE_ENV = { CANARY_SECRET: CANARY, CML_API_URL: "https://ml.example.test" };

/** Runs `deploy validate …` in-process; returns the exit code and what it printed. */
export async function runValidate(args: string[], env: NodeJS.ProcessEnv = FIXTURE_ENV, cwd = FIXTURES) {
  let out = "";
  let err = "";
  const io: CliIo = {
    isTTY: false,
    env,
    cwd,
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
  };
  const code = await main(["validate", ...args], io);
  return { code, out, err };
}

/** Writes files (path → text) into a fresh temporary directory and returns it. */
export function writeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "cml-lab-manifest-"));
  writeTree.into(dir, files);
  return dir;
}

writeTree.into = (dir: string, files: Record<string, string>): void => {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
};

/** A valid manifest body most tests start from (its scripts exist under app/ and jobs/). */
export const BASE = `name: demo
project:
  name: Demo
defaults:
  runtime: { editor: Workbench, kernel: Python 3.11, edition: Standard }
files:
  - { from: src, to: src }
`;

export const BASE_FILES = { "src/a.py": "", "src/b.py": "", "src/app.py": "", "src/model.py": "" };

export async function load(
  manifest: string,
  opts: {
    env?: NodeJS.ProcessEnv;
    vars?: Record<string, string>;
    target?: string;
    files?: Record<string, string>;
  } = {},
): Promise<LoadResult & { dir: string }> {
  const dir = writeTree({ ...BASE_FILES, ...opts.files, "m.yaml": manifest });
  const result = await loadManifest("m.yaml", {
    env: opts.env ?? {},
    cwd: dir,
    ...(opts.vars ? { vars: opts.vars } : {}),
    ...(opts.target ? { target: opts.target } : {}),
  });
  return { ...result, dir };
}

export function errors(result: LoadResult): string[] {
  return result.diagnostics.filter((d) => d.severity === "error").map((d) => d.message);
}
