/**
 * The lab end to end, as a user runs it: `cml-lab start` (what `npm start` runs) on a fresh data directory, a
 * question answered with a citation to the right page, the app re-pointed with `deploy app set-script`, the
 * dependent ingest chain re-run with `deploy run scrape`, `deploy destroy`, `cml-lab stop`: nothing left running.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { deployCliFor } from "./deploy-cli.js";

const root = join(import.meta.dirname, "../..");
// A user's working directory: the platform in ./.cml-local, as `npm start` makes it, and no ./data.
const home = mkdtempSync(join(tmpdir(), "cml-lab-e2e-"));
const dataDir = join(home, ".cml-local");
const manifest = join(root, "manifests/lab.yaml");
const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };

function cli(command: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "bin/cml-lab.js"), ...command, "--data-dir", dataDir], {
      cwd: root,
      env,
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("exit", (code) => resolve({ code, out }));
  });
}

/** A cml-lab command run in `home` as typed (no --data-dir): stdout and stderr apart. */
function cliHere(command: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "bin/cml-lab.js"), ...command], { cwd: home, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

const deployCli = deployCliFor(dataDir, root, env);

interface ChatEvent {
  event: string;
  data: Record<string, unknown>;
}

async function ask(appUrl: string, question: string): Promise<ChatEvent[]> {
  const response = await fetch(`${appUrl}/api/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ question, model: "offline", store: "chroma", temperature: 0.2, maxTokens: 400 }),
  });
  expect(response.status).toBe(200);
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((block) => block.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "{}") as Record<string, unknown>;
      return { event, data };
    });
}

let appUrl = "";
let serverPid = 0;
let startOutput = "";

afterAll(async () => {
  await cli(["stop"]);
});

describe("the lab, end to end on the local platform", () => {
  it("npm start brings up the platform, applies lab.yaml, ingests the sample docs and prints the app URL", async () => {
    const started = Date.now();
    const first = await cli(["start"]);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain("Plan: 13 to create");
    expect(first.out).toContain("populate-chroma: ENGINE_SUCCEEDED");
    appUrl = /Open the chat app:\s+(http:\/\/\S+)/.exec(first.out)?.[1] ?? "";
    expect(appUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Date.now() - started).toBeLessThan(120_000);
    serverPid = JSON.parse(readFileSync(join(dataDir, "server.json"), "utf8")).pid;
    startOutput = first.out;
  }, 180_000);

  it("a second npm start changes nothing and prints the same URL", async () => {
    const second = await cli(["start"]);
    expect(second.code, second.out).toBe(0);
    expect(second.out).toContain("Plan: 0 to create, 0 to update, 0 to recreate, 0 to delete, 13 unchanged.");
    expect(second.out).toContain("already indexed");
    expect(second.out).toContain(appUrl);
  }, 60_000);

  it("the README's query, as npm start's Next: list shows it, answers from the running lab's store", async () => {
    const shown = /^ {2}(npx cml-lab query .*?) +#/m.exec(startOutput)?.[1] ?? "";
    expect(shown).toBe('npx cml-lab query "What are list comprehensions?" --store local --model offline');
    expect(readFileSync(join(root, "README.md"), "utf8")).toContain(shown);
    const words = (shown.match(/"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^"|"$/g, ""));
    expect(words.slice(0, 2)).toEqual(["npx", "cml-lab"]);
    const result = await cliHere(words.slice(2));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /^store: the running lab's Chroma at http:\/\/127\.0\.0\.1:\d+ \(passages indexed by populate-chroma; \.\/data has no local index\)\n$/,
    );
    expect(result.stdout).toContain("Answer (offline, store chroma):");
    expect(result.stdout).toContain("/tutorial/datastructures.html#list-comprehensions");
  }, 60_000);

  it("cml-lab app started next to the lab serves the lab's store", async () => {
    const child = spawn(process.execPath, [join(root, "bin/cml-lab.js"), "app", "--port", "0"], { cwd: home, env });
    try {
      let output = "";
      const url = await new Promise<string>((resolve, reject) => {
        const seen = (d: Buffer) => {
          output += d;
          const found = /listening on (http:\/\/\S+)/.exec(output)?.[1];
          if (found) resolve(found);
        };
        child.stdout.on("data", seen);
        child.stderr.on("data", seen);
        child.on("exit", (code) => reject(new Error(`cml-lab app exited ${code}: ${output}`)));
      });
      expect(output).toContain("store: the running lab's Chroma at http://127.0.0.1:");
      const events = await ask(url, "What are list comprehensions?");
      const sources = (events[0]?.data.sources ?? []) as { url: string }[];
      expect(sources.map((s) => s.url).join(" ")).toContain("/tutorial/datastructures.html");
    } finally {
      child.kill("SIGTERM");
    }
  }, 60_000);

  it("the app answers a question about the sample docs, citing the page that answers it", async () => {
    const events = await ask(appUrl, "How do I create a virtual environment for my project?");
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(["sources", "delta", "usage", "done"]));
    expect(events[0]?.event).toBe("sources");
    const sources = (events[0]?.data.sources ?? []) as { n: number; url: string }[];
    const venv = sources.find((s) => s.url.includes("/tutorial/venv.html"));
    expect(venv, JSON.stringify(sources.map((s) => s.url))).toBeDefined();
    const answer = events
      .filter((e) => e.event === "delta")
      .map((e) => String(e.data.text ?? ""))
      .join("");
    expect(answer).toContain(`[${venv?.n}]`);
  }, 60_000);

  it("deploy app set-script re-points the app to the final version, which the running app then serves", async () => {
    const before = (await (await fetch(`${appUrl}/api/config`)).json()) as { models: unknown[] };
    expect(before.models).toHaveLength(2); // chat_v1.py: Bedrock and offline only
    const result = await deployCli([
      "app",
      "set-script",
      "chat",
      "launchers/chat_final.py",
      "--project",
      "LLM Hands-on Lab",
      "--target",
      "local",
    ]);
    expect(result.code, result.out).toBe(0);
    const after = (await (await fetch(`${appUrl}/api/config`)).json()) as { models: unknown[] };
    expect(after.models).toHaveLength(4);
  }, 90_000);

  it("deploy run scrape succeeds and CML-style dependency starts populate-chroma after it", async () => {
    const before = await deployCli(["logs", "job", "populate-chroma", manifest]);
    const run = await deployCli(["run", "scrape", manifest, "--wait"]);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain("ENGINE_SUCCEEDED");
    // The dependent run starts when scrape succeeds; its log is the newest one.
    let after = before;
    for (let i = 0; i < 120 && (after.out === before.out || !after.out.includes("chunks")); i++) {
      await new Promise((r) => setTimeout(r, 500));
      after = await deployCli(["logs", "job", "populate-chroma", manifest]);
    }
    expect(after.out).not.toBe(before.out);
    expect(after.out).toMatch(/26 pages \(0 indexed, 26 unchanged/);
  }, 120_000);

  it("deploy destroy removes everything and stops the workloads; stop leaves no process", async () => {
    const destroyed = await deployCli(["destroy", manifest, "--auto-approve"]);
    expect(destroyed.code, destroyed.out).toBe(0);
    await expect(fetch(`${appUrl}/healthz`)).rejects.toThrow();
    const again = await deployCli(["destroy", manifest, "--auto-approve"]);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain("Nothing to do.");
    const stopped = await cli(["stop"]);
    expect(stopped.out).toContain(`stopped the local platform (pid ${serverPid})`);
    expect(() => process.kill(serverPid, 0)).toThrow();
  }, 60_000);
});
