/**
 * A user's session for the docs-as-tests suite: a temporary copy of the repository (the working tree without .git,
 * its own .cml-local and data, node_modules linked), a clean environment (a private HOME with no credentials, a
 * private npm cache, nothing of npm's own run), and commands run there as typed: through a pipe, or in a real
 * pseudo-terminal (tmux) when the doc shows something typed into them.
 *
 * Nothing collides with another checkout or a user's running lab: the local platform is the copy's .cml-local
 * (`npm start` and the deploy commands resolve it from the working directory) and takes free ports; PORT=0 keeps
 * `cml-lab app` off its default 8100.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CmlClient, createCmlClient, listAll } from "../../src/client/index.js";
import { resolveConnection } from "../../src/deploy/connection.js";
import { localDown, runningServer } from "../../src/local/daemon.js";
import { pollUntil, WaitFailedError, WaitTimeoutError } from "../../src/shared/wait.js";
import { Terminal } from "../helpers/terminal.js";
import type { Input } from "./markdown.js";
import { lineMatches, outputLines } from "./transcript.js";

/** Left out of the copy: history, installed packages, and what a previous run of the checkout made. */
const NOT_COPIED = new Set([".git", "node_modules", ".cml-local", "data", "coverage", "test-artifacts", "my.yaml"]);
const ACTIVE = new Set(["ENGINE_SCHEDULING", "ENGINE_STARTING", "ENGINE_RUNNING", "ENGINE_STOPPING"]);
const COMMAND_TIMEOUT_MS = 300_000;
/** How long a shown prompt or output may take to appear before the typing the doc shows. */
const INPUT_TIMEOUT_MS = 120_000;

export interface Ran {
  code: number | null;
  lines: string[];
  terminal: boolean;
  ms: number;
}

export class DocSession {
  private readonly terminals: Terminal[] = [];

  private constructor(
    /** The temporary directory holding the copy, its HOME and npm cache. */
    readonly base: string,
    /** The copy of the repository: every command's working directory. */
    readonly root: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  static create(source: string): DocSession {
    const base = realpathSync(mkdtempSync(join(tmpdir(), "cml-lab-docs-")));
    const root = join(base, "cml-lab");
    cpSync(source, root, {
      recursive: true,
      filter: (from) => {
        const rel = from.slice(source.length + 1);
        return !NOT_COPIED.has(rel) && !rel.startsWith(".ci/out") && !rel.split("/").includes("__pycache__");
      },
    });
    symlinkSync(join(source, "node_modules"), join(root, "node_modules"));
    const home = join(base, "home");
    mkdirSync(home);
    return new DocSession(base, root, userEnv(home, join(base, "npm-cache")));
  }

  get dataDir(): string {
    return join(this.root, ".cml-local");
  }

  /** A command as typed at a shell prompt, stdout and stderr on one pipe in the order written. */
  run(command: string): Promise<Ran> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn("bash", ["-c", `exec 2>&1\n${command}`], {
        cwd: this.root,
        env: this.env,
        stdio: ["ignore", "pipe", "ignore"],
        detached: true,
      });
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
      });
      const timer = setTimeout(() => {
        out += `\n[docs-test: stopped after ${COMMAND_TIMEOUT_MS / 1000}s]\n`;
        if (child.pid) process.kill(-child.pid, "SIGTERM");
      }, COMMAND_TIMEOUT_MS);
      child.on("error", reject);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        const lines = outputLines(out, [this.root, this.base]);
        resolve({ code: code ?? (signal ? 128 : null), lines, terminal: false, ms: Date.now() - started });
      });
    });
  }

  /**
   * A command in a real terminal, typing what the doc shows being typed: at a shown `[y/N] y` it waits for that
   * prompt on the last line, then types the answer and Enter; at a shown `^C` it waits until the screen shows the
   * line the doc shows before it, then presses Ctrl-C.
   */
  async runInTerminal(command: string, inputs: Input[]): Promise<Ran> {
    const started = Date.now();
    // The shell keeps going after Ctrl-C ends the command (a trap, not an ignore: the command still gets it).
    const terminal = Terminal.start(`trap : INT; ${command}`, {
      cwd: this.root,
      env: this.env,
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
    this.terminals.push(terminal);
    const screen = () => screenOf(terminal.screen(), [this.root, this.base]);
    try {
      for (const input of inputs) {
        // A person answers when the prompt is on the last line, and presses Ctrl-C once what they waited for
        // is on the screen; whether the rest reads as the doc shows is for the comparison afterwards.
        const cue = input.kind === "answer" ? input.prompt : (input.after as string);
        await pollUntil(async () => screen(), {
          what: `the terminal to show ${JSON.stringify(cue)}`,
          until: (s) =>
            input.kind === "answer"
              ? lineMatches(cue, s.lines.at(-1) ?? "")
              : s.lines.some((line) => lineMatches(cue, line)),
          failWhen: (s) => (s.code !== undefined ? "the command ended first" : undefined),
          status: (s) => s.lines.at(-1),
          timeoutMs: INPUT_TIMEOUT_MS,
          intervalMs: 200,
        });
        if (input.kind === "answer") terminal.type(input.text);
        else terminal.press("C-c");
      }
      await terminal.exit();
      const ended = screen();
      return { code: ended.code ?? null, lines: ended.lines, terminal: true, ms: Date.now() - started };
    } catch (error) {
      if (!(error instanceof WaitTimeoutError || error instanceof WaitFailedError)) throw error;
      const { lines } = screen();
      terminal.press("C-c");
      return {
        code: null,
        lines: [...lines, `[docs-test: ${error.message}]`],
        terminal: true,
        ms: Date.now() - started,
      };
    } finally {
      terminal.close();
      this.terminals.splice(this.terminals.indexOf(terminal), 1);
    }
  }

  /**
   * Waits until no job run is active on the copy's local platform. A person reads one command's output before
   * typing the next, and dependent jobs (scrape → populate-chroma → ask) finish meanwhile; the doc's outputs show
   * such settled states.
   */
  async settle(): Promise<void> {
    if (!(await runningServer(this.dataDir))) return;
    const connection = await resolveConnection({ target: "local", dataDir: this.dataDir, env: {}, cwd: this.root });
    const api = createCmlClient({ baseUrl: connection.baseUrl, apiKey: connection.apiKey });
    await pollUntil(() => activeRuns(api), {
      what: "the local platform's job runs to finish",
      until: (active) => active.length === 0,
      status: (active) => active.join(", "),
      timeoutMs: COMMAND_TIMEOUT_MS,
      intervalMs: 500,
    });
  }

  /** Ends whatever still runs (a failed doc run may leave the lab up), then removes the copy. */
  async close(): Promise<void> {
    for (const terminal of this.terminals) terminal.close();
    await localDown(this.dataDir).catch(() => undefined);
    rmSync(this.base, { recursive: true, force: true });
  }
}

/** The terminal's lines, and the command's exit code once the helper printed it (`[exit N]`). */
function screenOf(text: string, roots: string[]): { lines: string[]; code?: number } {
  const lines = outputLines(text, roots);
  const last = lines.at(-1) ?? "";
  const exit = /\[exit (\d+)\]$/.exec(last);
  if (!exit) return { lines };
  const rest = last.slice(0, exit.index).trimEnd();
  if (rest) lines[lines.length - 1] = rest;
  else lines.pop();
  return { lines, code: Number(exit[1]) };
}

async function activeRuns(api: CmlClient): Promise<string[]> {
  const active: string[] = [];
  const projects = await listAll(
    (page_token) => api.GET("/api/v2/projects", { params: { query: { page_size: 100, page_token } } }),
    (page) => page.projects,
  );
  for (const project of projects) {
    const project_id = project.id ?? "";
    const jobs = await listAll(
      (page_token) =>
        api.GET("/api/v2/projects/{project_id}/jobs", {
          params: { path: { project_id }, query: { page_size: 100, page_token } },
        }),
      (page) => page.jobs,
    );
    for (const job of jobs) {
      const runs = await listAll(
        (page_token) =>
          api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
            params: { path: { project_id, job_id: job.id ?? "" }, query: { page_size: 100, page_token } },
          }),
        (page) => page.job_runs,
      );
      for (const run of runs) if (ACTIVE.has(run.status ?? "")) active.push(`${job.name}: ${run.status}`);
    }
  }
  return active;
}

/**
 * A new user's environment: their PATH (without what npm adds for its scripts), locale and shell, a HOME with no
 * credentials or config in it, and a private npm cache used offline (npx links the repository into it the first
 * time, as it does in any checkout). No CML, AWS, Pinecone or OpenAI variables reach the commands.
 */
function userEnv(home: string, npmCache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ["LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME", "SHELL"])
    if (process.env[name] !== undefined) env[name] = process.env[name];
  env.PATH = (process.env.PATH ?? "")
    .split(":")
    .filter((dir) => dir && !dir.includes("node_modules/.bin") && !dir.includes("node-gyp-bin"))
    .join(":");
  return {
    ...env,
    HOME: home,
    npm_config_cache: npmCache,
    npm_config_offline: "true",
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    PORT: "0",
  };
}
