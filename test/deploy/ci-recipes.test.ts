/**
 * Issue 18 part 4: each CI recipe (docs/ci/github-actions.yml, docs/ci/gitlab-ci.yml) runs here as its runner
 * would, against a local platform reached as the workspace target. For four events (a pull request opened, the
 * same request closed, a push to main, a manual re-point of the chat app) the jobs are chosen by the recipe's own
 * conditions (`if:`, `rules:`, the environment's `on_stop`), and their `run:` / `script:` lines run through bash
 * as written, with the recipe's variables and `${{ }}` expressions filled in. `npx deploy` is this checkout's bin
 * (a stand-in `npx` on PATH); `npm ci` is a no-op (the checkout is installed); `gh` is a stand-in that keeps the
 * comment; GitLab's notes API is a server on 127.0.0.1 that keeps the note. A recipe whose commands, conditions or
 * variables no longer work fails here.
 */
import { execFile } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { findOneByName, listAll } from "../../src/client/index.js";
import { startTestPlatform, type TestPlatform } from "../local/helpers.js";

const root = join(import.meta.dirname, "../..");
const run = promisify(execFile);
const PR = "7";
const LAB = "LLM Hands-on Lab";

// ---- The expression language both recipes use in conditions: the subset below, anything else is an error. ----

type Value = string | boolean;
const truthy = (v: Value) => v !== "" && v !== false;

/**
 * Evaluates a GitHub `if:`/`${{ }}` or GitLab `rules: if:` expression: `==`, `!=`, `&&`, `||`, `!`, parentheses,
 * quoted strings, and names (`github.event.action`, `$CI_PIPELINE_SOURCE`) that `lookup` resolves ("" if unset).
 */
function evaluate(expression: string, lookup: (name: string) => string | undefined): Value {
  const tokens = [...expression.matchAll(/\s*(==|!=|&&|\|\||!|\(|\)|'[^']*'|"[^"]*"|\$?[A-Za-z_][\w.-]*)\s*/gy)];
  if (tokens.map((t) => t[0]).join("") !== expression) throw new Error(`unsupported expression: ${expression}`);
  const items = tokens.map((t) => t[1] ?? "");
  let at = 0;
  const primary = (): Value => {
    const token = items[at++] ?? "";
    if (token === "(") {
      const value = or();
      if (items[at++] !== ")") throw new Error(`unbalanced parentheses: ${expression}`);
      return value;
    }
    if (/^['"]/.test(token)) return token.slice(1, -1);
    if (/^[$A-Za-z_]/.test(token)) return lookup(token) ?? "";
    throw new Error(`unexpected "${token}" in ${expression}`);
  };
  const compare = (): Value => {
    const left = primary();
    const op = items[at];
    if (op !== "==" && op !== "!=") return left;
    at++;
    const right = primary();
    return op === "==" ? String(left) === String(right) : String(left) !== String(right);
  };
  const unary = (): Value => {
    if (items[at] !== "!") return compare();
    at++;
    return !truthy(unary());
  };
  /** `a && b` is b when a is truthy, else a; `a || b` is a when a is truthy, else b (GitHub's rules). */
  const chain = (op: string, next: () => Value, keepLeft: (left: Value) => boolean) => (): Value => {
    let value = next();
    while (items[at] === op) {
      at++;
      const right = next();
      value = keepLeft(value) ? value : right;
    }
    return value;
  };
  const and = chain("&&", unary, (left) => !truthy(left));
  const or = chain("||", and, truthy);
  const value = or();
  if (at !== items.length) throw new Error(`unexpected "${items[at]}" in ${expression}`);
  return value;
}

// ---- What a runner provides: a checkout, the tools the recipes call, a shell. ----

interface Runner {
  /** The checkout the jobs run in (this repository's files, linked), where plan.md lands. */
  dir: string;
  /** PATH with the stand-ins first. */
  path: string;
  /** Comments the `gh` stand-in posted, in order. */
  comments: () => string;
  /** Every command line run. */
  ran: string[];
  /** Removes the checkout, the stand-ins and what the jobs wrote. */
  remove: () => void;
}

function makeRunner(): Runner {
  const base = mkdtempSync(join(tmpdir(), "cml-lab-ci-"));
  const dir = join(base, "checkout");
  const bin = join(base, "bin");
  mkdirSync(dir);
  mkdirSync(bin);
  for (const entry of readdirSync(root)) if (entry !== ".git") symlinkSync(join(root, entry), join(dir, entry));
  const commentsFile = join(base, "gh-comments.md");
  const tools: Record<string, string> = {
    npx: `[ "$1" = deploy ] || { echo "npx $1: only deploy exists here" >&2; exit 127; }
shift
exec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(root, "bin/deploy.js"))} "$@"`,
    npm: `[ "$*" = ci ] || { echo "npm $*: only 'npm ci' exists here" >&2; exit 127; }`,
    // The GitHub CLI as far as the recipe uses it: gh pr comment N --body-file F [--edit-last], where
    // --edit-last fails while there is no comment yet (the recipe then posts a new one).
    gh: `[ "$1 $2" = "pr comment" ] || { echo "gh $1 $2: not in this stand-in" >&2; exit 127; }
pr="$3"; body=""; edit=0; prev=""
for a in "$@"; do [ "$prev" = --body-file ] && body="$a"; [ "$a" = --edit-last ] && edit=1; prev="$a"; done
[ -n "$GH_TOKEN" ] || { echo "gh: GH_TOKEN is not set" >&2; exit 4; }
[ -f "$body" ] || { echo "gh: no body file $body" >&2; exit 1; }
if [ $edit = 1 ] && [ ! -s ${JSON.stringify(commentsFile)} ]; then echo "no comments found for current user" >&2; exit 1; fi
{ echo "<!-- PR $pr -->"; cat "$body"; } >> ${JSON.stringify(commentsFile)}`,
  };
  for (const [name, script] of Object.entries(tools)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  writeFileSync(commentsFile, "");
  return {
    dir,
    path: `${bin}:${process.env.PATH ?? ""}`,
    comments: () => readFileSync(commentsFile, "utf8"),
    ran: [],
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}

/** Runs one job's lines as its runner's shell does (bash, stop at the first failure); returns stdout+stderr. */
async function shell(runner: Runner, lines: string[], env: Record<string, string>): Promise<string> {
  runner.ran.push(...lines);
  const script = ["set -eo pipefail", ...lines].join("\n");
  // Async: the platform serves from this process, so a blocking exec would starve it.
  const result = await run("bash", ["-c", script], {
    cwd: runner.dir,
    env: { ...env, PATH: runner.path, HOME: runner.dir, CML_LAB_LOCK_DIR: join(runner.dir, "..", "locks") },
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`job failed:\n${lines.join("\n")}\n${error.stdout ?? ""}${error.stderr ?? error.message}`);
  });
  return result.stdout + result.stderr;
}

// ---- GitHub Actions ----

interface GithubStep {
  run?: string;
  uses?: string;
  env?: Record<string, string>;
}
interface GithubJob {
  if?: string;
  env?: Record<string, string>;
  steps?: GithubStep[];
}
interface GithubWorkflow {
  on: Record<string, { inputs?: Record<string, { default?: string }> } | null>;
  env?: Record<string, string>;
  jobs: Record<string, GithubJob>;
}

type GithubEvent = { name: string; action?: string; ref: string };

/** Runs the jobs `event` triggers, in file order; returns their names. */
async function runGithub(
  runner: Runner,
  workflow: GithubWorkflow,
  event: GithubEvent,
  secrets: Record<string, string>,
): Promise<string[]> {
  if (!(event.name in workflow.on)) throw new Error(`the workflow does not run on ${event.name}`);
  const inputs = Object.fromEntries(
    Object.entries(workflow.on.workflow_dispatch?.inputs ?? {}).map(([name, input]) => [name, input.default ?? ""]),
  );
  const context: Record<string, unknown> = {
    github: {
      event_name: event.name,
      ref: event.ref,
      token: "ghs_stand-in",
      // The pull_request payload has the number twice: event.number and event.pull_request.number.
      event: event.name === "pull_request" ? { action: event.action, number: PR, pull_request: { number: PR } } : {},
    },
    inputs: event.name === "workflow_dispatch" ? inputs : {},
    secrets,
  };
  const lookup = (name: string) => {
    const value = name
      .split(".")
      .reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], context);
    return value === undefined || value === null ? undefined : String(value);
  };
  const expand = (text: string) =>
    text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, expression: string) => String(evaluate(expression, lookup)));
  const expandAll = (env: Record<string, string> = {}) =>
    Object.fromEntries(Object.entries(env).map(([k, v]) => [k, expand(String(v))]));
  const started: string[] = [];
  for (const [name, job] of Object.entries(workflow.jobs)) {
    if (job.if !== undefined && !truthy(evaluate(job.if, lookup))) continue;
    started.push(name);
    for (const step of job.steps ?? []) {
      // actions/checkout and actions/setup-node: the runner's checkout is `dir`, its Node this one.
      if (step.uses) continue;
      if (step.run === undefined) throw new Error(`${name}: a step with neither run nor uses`);
      const env = { ...expandAll(workflow.env), ...expandAll(job.env), ...expandAll(step.env) };
      await shell(runner, [expand(step.run)], env);
    }
  }
  return started;
}

// ---- GitLab CI ----

interface GitlabJob {
  stage?: string;
  rules?: { if?: string; when?: string }[];
  before_script?: string[];
  script?: string[];
  environment?: { name?: string; on_stop?: string; action?: string };
}
const GITLAB_KEYWORDS = new Set(["default", "variables", "stages", "workflow", "include", "image", "before_script"]);

function gitlabJobs(doc: Record<string, unknown>): [string, GitlabJob][] {
  const stages = (doc.stages as string[] | undefined) ?? ["build", "test", "deploy"];
  return Object.entries(doc)
    .filter(([name]) => !GITLAB_KEYWORDS.has(name) && !name.startsWith("."))
    .map(([name, job]) => [name, job as GitlabJob] as [string, GitlabJob])
    .sort(([, a], [, b]) => stages.indexOf(a.stage ?? "test") - stages.indexOf(b.stage ?? "test"));
}

/** How the pipeline for `variables` has the job: undefined when no rule matches (not in the pipeline). */
function gitlabWhen(job: GitlabJob, variables: Record<string, string>): string | undefined {
  const lookup = (name: string) => (name.startsWith("$") ? variables[name.slice(1)] : undefined);
  for (const rule of job.rules ?? [{}]) {
    if (rule.if === undefined || truthy(evaluate(rule.if, lookup))) return rule.when ?? "on_success";
  }
  return undefined;
}

async function runGitlabJob(
  runner: Runner,
  doc: Record<string, unknown>,
  job: GitlabJob,
  variables: Record<string, string>,
): Promise<void> {
  const before = job.before_script ?? (doc.default as GitlabJob | undefined)?.before_script ?? [];
  await shell(runner, [...before, ...(job.script ?? [])], variables);
}

/** Runs the pipeline `variables` describe: every job its rules start without a click; returns their names. */
async function runGitlab(
  runner: Runner,
  doc: Record<string, unknown>,
  variables: Record<string, string>,
): Promise<string[]> {
  const started: string[] = [];
  for (const [name, job] of gitlabJobs(doc)) {
    const when = gitlabWhen(job, variables);
    if (when === undefined || when === "manual" || when === "never") continue;
    started.push(name);
    await runGitlabJob(runner, doc, job, variables);
  }
  return started;
}

/** A merge request closed: GitLab runs the `on_stop` job of each environment its pipeline started. */
async function stopGitlabEnvironments(
  runner: Runner,
  doc: Record<string, unknown>,
  started: string[],
  variables: Record<string, string>,
): Promise<string[]> {
  const jobs = new Map(gitlabJobs(doc));
  const stopped: string[] = [];
  for (const name of started) {
    const stopName = jobs.get(name)?.environment?.on_stop;
    if (!stopName) continue;
    const stop = jobs.get(stopName);
    if (!stop) throw new Error(`${name}: on_stop names ${stopName}, which is not a job`);
    if (stop.environment?.action !== "stop" || stop.environment.name !== jobs.get(name)?.environment?.name) {
      throw new Error(`${stopName} does not stop the environment ${name} starts`);
    }
    if (gitlabWhen(stop, variables) === undefined) throw new Error(`${stopName}: no rule lets it run`);
    stopped.push(stopName);
    await runGitlabJob(runner, doc, stop, variables);
  }
  return stopped;
}

/** GitLab's notes API as far as the recipe uses it: POST …/merge_requests/:iid/notes with a PRIVATE-TOKEN. */
async function startNotesApi() {
  const notes: { path: string; token: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => {
      raw += chunk.toString("utf8");
    });
    req.on("end", () => {
      const token = req.headers["private-token"];
      notes.push({
        path: `${req.method} ${req.url}`,
        token: typeof token === "string" ? token : undefined,
        body: new URLSearchParams(raw).get("body") ?? "",
      });
      res.writeHead(201, { "content-type": "application/json" }).end('{"id":1}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v4`,
    notes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---- What the platform holds after each flow. ----

async function stack(t: TestPlatform, projectName: string) {
  const project = await findOneByName(t.api, "project", { name: projectName });
  if (!project?.id) return undefined;
  const project_id = project.id;
  const jobs = await listAll(
    (page_token) =>
      t.api.GET("/api/v2/projects/{project_id}/jobs", { params: { path: { project_id }, query: { page_token } } }),
    (page) => page.jobs,
  );
  const apps = await listAll(
    (page_token) =>
      t.api.GET("/api/v2/projects/{project_id}/applications", {
        params: { path: { project_id }, query: { page_token } },
      }),
    (page) => page.applications,
  );
  return {
    jobs: jobs.map((j) => j.name ?? "").sort(),
    apps: apps
      .map((a) => ({ subdomain: a.subdomain, script: a.script, status: a.status }))
      .sort((a, b) => String(a.subdomain).localeCompare(String(b.subdomain))),
  };
}

const PLAN_SUMMARY = /\*\*Plan: \d+ to create, 0 to update, 0 to recreate, 0 to delete, 0 unchanged\.\*\*/;
/** manifests/lab.yaml on a workspace without Pinecone credentials: three jobs, two running applications. */
const labStack = (suffix: string, chatScript: string) => ({
  jobs: ["ask", "populate-chroma", "scrape"],
  apps: [
    { subdomain: `llm-hol${suffix}`, script: chatScript, status: "APPLICATION_RUNNING" },
    { subdomain: `vectordb${suffix}`, script: "launchers/run.py", status: "APPLICATION_RUNNING" },
  ],
});

/** A fresh platform and runner per recipe, so each one's main apply creates the stack and test order is free. */
async function withPlatform(body: (t: TestPlatform, runner: Runner) => Promise<void>): Promise<void> {
  const t = await startTestPlatform();
  const runner = makeRunner();
  try {
    await body(t, runner);
  } finally {
    runner.remove();
    await t.close();
  }
}

describe("the CI recipes' command sequences, run against a local platform as the workspace", () => {
  it(
    "docs/ci/github-actions.yml: PR plan + comment + preview, preview destroyed on close, apply on main, re-point",
    () =>
      withPlatform(async (t, runner) => {
        const workflow = parse(readFileSync(join(root, "docs/ci/github-actions.yml"), "utf8")) as GithubWorkflow;
        // The repository's secrets; PINECONE_API_KEY is not one of them, so GitHub expands it to "".
        const secrets = { CML_API_URL: t.platform.apiUrl, CML_API_KEY: t.platform.apiKey };
        const pr = (action: string): GithubEvent => ({ name: "pull_request", action, ref: `refs/pull/${PR}/merge` });
        const preview = `${LAB}-pr-${PR}`;

        expect(await runGithub(runner, workflow, pr("opened"), secrets)).not.toEqual([]);
        expect(runner.comments()).toMatch(PLAN_SUMMARY);
        expect(runner.comments()).toContain(preview);
        expect(await stack(t, preview)).toEqual(labStack(`-pr-${PR}`, "launchers/chat_v1.py"));

        expect(await runGithub(runner, workflow, pr("closed"), secrets)).not.toEqual([]);
        expect(await stack(t, preview)).toBeUndefined();

        await runGithub(runner, workflow, { name: "push", ref: "refs/heads/main" }, secrets);
        expect(await stack(t, LAB)).toEqual(labStack("", "launchers/chat_v1.py"));

        // workflow_dispatch with its inputs' defaults: chat, launchers/chat_final.py, LLM Hands-on Lab.
        await runGithub(runner, workflow, { name: "workflow_dispatch", ref: "refs/heads/main" }, secrets);
        expect(await stack(t, LAB)).toEqual(labStack("", "launchers/chat_final.py"));
        console.log(`github-actions.yml: ${runner.ran.length} command lines run`);
      }),
    120_000,
  );

  it(
    "docs/ci/gitlab-ci.yml: MR plan + note + preview, on_stop destroys it, apply on main, re-point",
    () =>
      withPlatform(async (t, runner) => {
        const doc = parse(readFileSync(join(root, "docs/ci/gitlab-ci.yml"), "utf8")) as Record<string, unknown>;
        const notesApi = await startNotesApi();
        try {
          // The project's CI/CD variables, the file's own variables, and what GitLab predefines for a pipeline.
          const base = {
            ...(doc.variables as Record<string, string>),
            CML_API_URL: t.platform.apiUrl,
            CML_API_KEY: t.platform.apiKey,
            GITLAB_TOKEN: "glpat-stand-in",
            CI_API_V4_URL: notesApi.url,
            CI_PROJECT_ID: "42",
            CI_DEFAULT_BRANCH: "main",
          };
          const mr = { ...base, CI_PIPELINE_SOURCE: "merge_request_event", CI_MERGE_REQUEST_IID: PR };
          const preview = `${LAB}-pr-${PR}`;

          const opened = await runGitlab(runner, doc, mr);
          expect(notesApi.notes.map((n) => [n.path, n.token])).toEqual([
            [`POST /api/v4/projects/42/merge_requests/${PR}/notes`, "glpat-stand-in"],
          ]);
          expect(notesApi.notes[0]?.body).toMatch(PLAN_SUMMARY);
          expect(await stack(t, preview)).toEqual(labStack(`-pr-${PR}`, "launchers/chat_v1.py"));

          expect(await stopGitlabEnvironments(runner, doc, opened, mr)).not.toEqual([]);
          expect(await stack(t, preview)).toBeUndefined();

          await runGitlab(runner, doc, { ...base, CI_PIPELINE_SOURCE: "push", CI_COMMIT_BRANCH: "main" });
          expect(await stack(t, LAB)).toEqual(labStack("", "launchers/chat_v1.py"));

          // A web pipeline with the values the file's comment gives as the example.
          const web = {
            ...base,
            CI_PIPELINE_SOURCE: "web",
            APP: "chat",
            SCRIPT: "launchers/chat_final.py",
            PROJECT: LAB,
          };
          await runGitlab(runner, doc, web);
          expect(await stack(t, LAB)).toEqual(labStack("", "launchers/chat_final.py"));
          console.log(`gitlab-ci.yml: ${runner.ran.length} command lines run`);
        } finally {
          await notesApi.close();
        }
      }),
    120_000,
  );
});
