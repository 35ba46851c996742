/**
 * The confirmation a person sees in a real terminal (issue 15, defect 1): `deploy destroy` and an `apply` that
 * recreates list what goes, ask `[y/N]`, and act only on "y". Runs the real bin in a tmux pseudo-terminal against
 * a local platform, typing the answers; without a terminal the same commands refuse and ask for --auto-approve.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Terminal } from "../helpers/terminal.js";
import { startTestPlatform, type TestPlatform } from "../local/helpers.js";
import { deploy, inventory, writeTree } from "./engine/harness.js";

const BIN = join(import.meta.dirname, "../../bin/deploy.js");

const MANIFEST = (withReport: boolean) => `name: confirm-test
project:
  name: "Confirm Test"
targets:
  test: { default: true, url: "\${env:CML_API_URL}" }
defaults:
  runtime: { editor: PBJ Workbench, kernel: Python 3.11, edition: Standard }
  cpu: 1
  memory: 1
files:
  - { from: jobs, to: jobs }
jobs:
  prepare:
    script: jobs/prepare.py
${withReport ? "  report:\n    script: jobs/prepare.py\n" : ""}`;

let tp: TestPlatform;
let env: NodeJS.ProcessEnv;
let dir: string;
const terminals: Terminal[] = [];

beforeAll(async () => {
  tp = await startTestPlatform();
  env = { ...process.env, CML_API_URL: tp.platform.apiUrl, CML_API_KEY: tp.platform.apiKey, NO_COLOR: "1" };
  dir = writeTree({ "lab.yaml": MANIFEST(true), "jobs/prepare.py": "print('prepare')\n" });
  const applied = await deploy(["apply", "lab.yaml"], env, dir);
  expect(applied.code, applied.out + applied.err).toBe(0);
});
afterAll(async () => {
  for (const t of terminals) t.close();
  await tp?.close();
});

function inTerminal(args: string): Terminal {
  const t = Terminal.start(`node ${BIN} ${args}`, { cwd: dir, env });
  terminals.push(t);
  return t;
}

async function projects(): Promise<string[]> {
  return (await inventory(tp.api)).projects;
}

describe("confirmation in a real terminal", () => {
  it("apply that deletes: lists it, Enter means no, y means yes", async () => {
    writeTree({ "lab.yaml": MANIFEST(false) }, dir);

    const declined = inTerminal("apply lab.yaml");
    const asked = await declined.waitFor(/\[y\/N\]$/);
    expect(asked).toContain(
      "This apply deletes or recreates 1 object(s) (1 to delete):\n  - jobs.report (no longer in the manifest)\n",
    );
    expect(asked).toMatch(/Apply the plan, deleting or recreating them\? \[y\/N\]$/);
    declined.press("Enter"); // the default is no
    const no = await declined.exit();
    expect(no.code, no.screen).toBe(1);
    expect(no.screen).toContain("error: cancelled; nothing was changed");
    expect((await inventory(tp.api)).jobs).toContain("Confirm Test/report");

    const accepted = inTerminal("apply lab.yaml");
    await accepted.waitFor(/\[y\/N\]$/);
    accepted.type("y");
    const yes = await accepted.exit();
    expect(yes.code, yes.screen).toBe(0);
    expect(yes.screen).toMatch(/Apply: 0 created, 0 updated, 0 recreated, 1 deleted/);
    expect((await inventory(tp.api)).jobs).toEqual(["Confirm Test/prepare"]);
  });

  it("destroy: lists what goes; n and Ctrl-C keep everything, y deletes", async () => {
    const declined = inTerminal("destroy lab.yaml");
    const asked = await declined.waitFor(/\[y\/N\]$/);
    expect(asked).toContain("Destroy deletes or recreates 2 object(s) (2 to delete):\n  - jobs.prepare\n  - project\n");
    declined.type("n");
    expect((await declined.exit()).code).toBe(1);
    expect(await projects()).toContain("Confirm Test");

    const interrupted = inTerminal("destroy lab.yaml");
    await interrupted.waitFor(/Destroy them\? \[y\/N\]$/);
    interrupted.press("C-c");
    const stopped = await interrupted.exit();
    expect(stopped.code, stopped.screen).toBe(1);
    expect(stopped.screen).toContain("error: cancelled; nothing was changed");
    expect(await projects()).toContain("Confirm Test");

    // Without a terminal (a pipe, as in CI) nothing is asked: it refuses, even with "y" on stdin.
    const piped = await runPiped(["destroy", "lab.yaml"], "y\n");
    expect(piped.code).toBe(1);
    expect(piped.stderr).toContain("without a terminal to confirm, pass --auto-approve");
    expect(await projects()).toContain("Confirm Test");

    const accepted = inTerminal("destroy lab.yaml");
    await accepted.waitFor(/Destroy them\? \[y\/N\]$/);
    accepted.type("yes");
    const yes = await accepted.exit();
    expect(yes.code, yes.screen).toBe(0);
    expect(yes.screen).toMatch(/Destroy: 0 created, 0 updated, 0 recreated, 2 deleted/);
    expect(await projects()).not.toContain("Confirm Test");
  });
});

/** The bin with stdin and stdout as pipes (spawned asynchronously: the platform runs in this process). */
function runPiped(args: string[], input: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
    child.stdin.end(input);
  });
}
