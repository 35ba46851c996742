/**
 * `npm start`: the whole lab on this machine. Brings up the local platform (idempotent), applies
 * manifests/lab.yaml to it through the deploy library (printing the same plan and progress the CLI would on a
 * workspace), runs the scrape job once (its dependent populate-chroma job then indexes into Chroma), and prints
 * the chat app's URL. A second run finds nothing to change and nothing to ingest, and prints the same URL.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { type CmlClient, formatDuration, listAll, waitFor, waits } from "../client/index.js";
import { loadStack, renderEvent, renderPlan } from "../deploy/index.js";
import { localUp } from "../local/daemon.js";
import { UserError } from "../shared/errors.js";
import type { CliIo } from "../shared/io.js";
import { LAB_PROJECT } from "./running-store.js";

export interface StartOptions {
  /** The cml-lab checkout (holds manifests/lab.yaml). */
  root: string;
  /** Local platform data directory. */
  dataDir: string;
  io: CliIo;
  /** Seconds to wait for the ingest jobs. */
  ingestTimeoutS?: number;
}

export interface StartResult {
  appUrl: string;
  project: string;
  ingested: boolean;
  elapsedMs: number;
}

const PROJECT = LAB_PROJECT;
/** The README's query: after npm start it reads the running lab's store (src/lab/running-store.ts). */
export const LAB_QUERY = 'npx cml-lab query "What are list comprehensions?" --store local --model offline';

export async function startLab(options: StartOptions): Promise<StartResult> {
  const { io } = options;
  const started = Date.now();
  const manifest = join(options.root, "manifests", "lab.yaml");
  const step = (n: number, text: string) => io.stdout(`\n[${n}/4] ${text}\n`);

  await requirePython3(io.env);
  step(1, "local platform");
  const up = await localUp({ dataDir: options.dataDir });
  io.stdout(`${up.alreadyRunning ? "already running" : "started"} at ${up.record.apiUrl} (data: ${options.dataDir})\n`);

  step(2, `deploy apply ${manifest}`);
  const stack = await loadStack({ manifest, dataDir: options.dataDir, env: io.env, cwd: io.cwd });
  const applied = await stack
    .apply({
      review: (p) => {
        io.stdout(`${renderPlan(p, { color: false }).join("\n")}\n`);
        if (p.entries.every((e) => e.action === "skip")) io.stdout("Nothing to do.\n");
        return p;
      },
      onEvent: (event) => {
        if (event.type === "lock.wait") io.stderr(`waiting for the stack lock (${event.holder})\n`);
        else if (event.type === "warning") io.stderr(`warning: ${event.message}\n`);
        else if (event.type !== "replan") for (const line of renderEvent(event, "Apply")) io.stdout(`${line}\n`);
      },
      ...(io.isTTY && io.confirm ? { confirm: io.confirm } : {}),
    })
    .catch((error: unknown) => {
      io.stderr(`${error instanceof Error ? error.message : String(error)}\n`);
      throw new UserError("deploy apply failed (see above); fix it and run npm start again");
    });
  if (applied.summary && (applied.summary.counts.failed > 0 || applied.summary.counts.skipped > 0))
    throw new UserError("deploy apply failed (see above); fix it and run npm start again");
  const { api } = stack.target;
  const projectId = applied.outputs.project?.id;
  if (!projectId) throw new Error(`apply succeeded but project "${PROJECT}" is missing`);

  step(3, "ingest: scrape → populate-chroma");
  const populate = jobId(applied.outputs, "populate-chroma");
  let ingested = false;
  if (await hasSucceeded(api, projectId, populate)) {
    io.stdout(
      "the documents are already indexed (populate-chroma succeeded before); `npx deploy run scrape` redoes it\n",
    );
  } else {
    const since = new Date().toISOString();
    const ran = await stack.runJob("scrape", {
      wait: true,
      onLog: (text) => io.stdout(text),
      onStarted: (run) => io.stderr(`run ${run.id ?? ""} of jobs.scrape started\n`),
    });
    const took =
      ran.run.running_at && ran.run.finished_at
        ? ` in ${formatDuration(Date.parse(ran.run.finished_at) - Date.parse(ran.run.running_at))}`
        : "";
    io.stderr(`run ${ran.run.id ?? ""} of jobs.scrape: ${ran.run.status}${took}\n`);
    if (!ran.succeeded) throw new UserError("the scrape job failed (its log is above)");
    io.stdout("scrape succeeded; populate-chroma runs after it:\n");
    const run = await waitForRunAfter(api, projectId, populate, since, (options.ingestTimeoutS ?? 300) * 1000, io);
    if (run !== "ENGINE_SUCCEEDED")
      throw new UserError(`populate-chroma ended ${run}; see: npx deploy logs job populate-chroma`);
    ingested = true;
  }

  step(4, "chat app");
  const chat = applied.outputs["applications.chat"];
  if (!chat?.id) throw new Error("apply succeeded but the chat application is missing");
  const running = await waits.applicationRunning(api, projectId, chat.id, { timeoutMs: 60_000 });
  const appUrl = chat.url;
  if (!appUrl) throw new Error("the local platform did not report the chat app's URL");
  const elapsedMs = Date.now() - started;
  io.stdout(
    [
      "",
      `The lab is running (${running.status}, ${(elapsedMs / 1000).toFixed(1)} s). Open the chat app:`,
      "",
      `    ${appUrl}`,
      "",
      "Next:",
      `  ${LAB_QUERY}   # from the lab's Chroma`,
      "  npx deploy run ask --follow                  # the retriever → prompt → model chain as a job (exercise 6)",
      "  npx deploy plan manifests/lab.yaml           # nothing to change",
      `  npx deploy app set-script chat launchers/chat_final.py --project "${PROJECT}"   # exercise 8`,
      "  npx deploy run scrape --follow               # re-ingest (populate-chroma, then ask, follow)",
      "  npx deploy logs app chat                     # the app's log",
      "  npm stop                                     # stop everything (npm start resumes it)",
      "docs/lab.md walks through all eight exercises.",
      "",
    ].join("\n"),
  );
  return { appUrl, project: PROJECT, ingested, elapsedMs };
}

/**
 * The local platform runs every job, application and model through a Python launcher (launchers/*.py), as CML runs
 * them with the runtime's Python kernel; without python3 every one of them would fail later with a less clear error.
 */
export function requirePython3(env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("python3", ["--version"], { env, timeout: 15_000 }, (error, stdout, stderr) => {
      const version = `${stdout}${stderr}`.trim();
      if (!error && /^Python 3\./.test(version)) return resolve(version);
      reject(
        new UserError("npm start needs Python 3 (`python3` on PATH), and none was found", {
          notes: [
            "the local platform runs every job, application and model through a Python launcher (launchers/*.py), as CML does",
            "install it (Debian/Ubuntu: apt-get install python3; macOS: brew install python3), then run npm start again",
            error ? `python3 --version: ${error.message}` : `python3 --version printed: ${version}`,
          ],
        }),
      );
    });
  });
}

function jobId(outputs: Partial<Record<string, Record<string, string>>>, key: string): string {
  const id = outputs[`jobs.${key}`]?.id;
  if (!id) throw new Error(`apply succeeded but jobs.${key} is missing`);
  return id;
}

async function runsOf(api: CmlClient, projectId: string, jobId: string) {
  return listAll(
    (page_token) =>
      api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
        params: { path: { project_id: projectId, job_id: jobId }, query: { page_size: 100, page_token } },
      }),
    (page) => page.job_runs,
  );
}

async function hasSucceeded(api: CmlClient, projectId: string, jobId: string): Promise<boolean> {
  return (await runsOf(api, projectId, jobId)).some((run) => run.status === "ENGINE_SUCCEEDED");
}

/** The dependent run CML starts after its parent succeeds: wait for it to appear, then to finish. */
async function waitForRunAfter(
  api: CmlClient,
  projectId: string,
  jobId: string,
  since: string,
  timeoutMs: number,
  io: CliIo,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const run = await waitFor(
    async () => (await runsOf(api, projectId, jobId)).find((r) => (r.created_at ?? "") >= since),
    {
      what: "populate-chroma to start after scrape",
      status: (r) => r?.status ?? "no run yet",
      until: (r) => r?.id !== undefined,
      timeoutMs,
      intervalMs: 250,
    },
  );
  const done = await waits.jobRunFinished(api, projectId, jobId, run?.id ?? "", {
    timeoutMs: Math.max(1_000, deadline - Date.now()),
    onProgress: (status, elapsed) => io.stdout(`  populate-chroma: ${status} (${Math.round(elapsed / 1000)}s)\n`),
  });
  return done.status ?? "unknown";
}
