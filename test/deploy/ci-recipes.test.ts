/**
 * The CI recipes' check commands, taken from the YAML as a runner would see them, with the CI variables filled
 * in and `npx deploy` run as this checkout's bin against a local platform reached as the workspace target. A recipe whose validate or
 * plan line no longer parses or runs fails here. (apply/destroy/set-script lines are listed, not run: see the
 * report on issue 18.)
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startTestPlatform, type TestPlatform } from "../local/helpers.js";

const root = join(import.meta.dirname, "../..");

type Job = { steps?: { run?: string }[]; script?: string[] };

function commands(file: string, pick: (name: string) => boolean): string[] {
  const doc = parse(readFileSync(join(root, file), "utf8")) as Record<string, Job>;
  const jobs = (doc.jobs as unknown as Record<string, Job> | undefined) ?? doc;
  return Object.entries(jobs)
    .filter(([name]) => pick(name))
    .flatMap(([, job]) => [...(job.steps ?? []).map((step) => step.run ?? ""), ...(job.script ?? [])])
    .filter((line) => line.startsWith("npx deploy validate") || line.startsWith("npx deploy plan"));
}

const run = promisify(execFile);

// Async: the platform serves from this process, so a blocking exec would starve it.
async function runAll(lines: string[], vars: Record<string, string>): Promise<string> {
  let out = "";
  for (const line of lines) {
    const filled = line
      .replace(/\$\{\{ github\.event\.pull_request\.number \}\}/g, "7")
      .replace(/^npx deploy/, `node ${JSON.stringify(join(root, "bin/deploy.js"))}`);
    const result = await run("bash", ["-c", filled], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", ...vars },
      encoding: "utf8",
    });
    out += result.stdout;
  }
  return out;
}

describe("CI recipes run their check commands", () => {
  let t: TestPlatform;
  const vars: Record<string, string> = {
    MANIFEST: "manifests/lab.yaml",
    TARGET: "workspace",
    CI_MERGE_REQUEST_IID: "7",
  };
  beforeAll(async () => {
    t = await startTestPlatform();
    vars.CML_API_URL = t.platform.apiUrl;
    vars.CML_API_KEY = t.platform.apiKey;
  });
  afterAll(() => t?.close());
  for (const [file, pick] of [
    ["docs/ci/github-actions.yml", (name: string) => name === "pr-plan"],
    ["docs/ci/gitlab-ci.yml", (name: string) => name === "mr-plan"],
  ] as const) {
    it(`${file}: validate and plan --format markdown for a -pr-7 preview`, async () => {
      const lines = commands(file, pick);
      expect(lines.length).toBe(2);
      const out = await runAll(
        lines.map((line) => line.replace(/ > plan\.md$/, "")),
        vars,
      );
      expect(out).toMatch(/\*\*Plan: \d+ to create, 0 to update, 0 to recreate, 0 to delete, 0 unchanged\.\*\*/);
      expect(out).toContain("LLM Hands-on Lab-pr-7");
    });
  }
});
