/**
 * Applications as long-lived processes: APPLICATION_STARTING → APPLICATION_RUNNING (once CDSW_APP_PORT answers
 * HTTP) | APPLICATION_FAILED; :stop → APPLICATION_STOPPED. The process reads the application's script and
 * environment when it starts, so a PATCH takes effect at the next :restart (what the evidence about CML suggests).
 */
import { join } from "node:path";
import { envFromWire } from "../client/index.js";
import { getProject, type PlatformContext, projectRoot, watchWorkload } from "./context.js";
import { nowIso } from "./ids.js";
import { portIsFree, waitForHttp } from "./ports.js";
import { appendLine, interpreterFor, type Workload } from "./processes.js";
import { resolveInProject } from "./project-files.js";
import type { ApplicationRecord } from "./state.js";
import { workloadEnv } from "./workload-env.js";

/** How long an application may take to answer on its port before it counts as failed. */
export const APP_START_TIMEOUT_MS = 120_000;

export function appLogFile(dataDir: string, appId: string): string {
  return join(dataDir, "logs", "applications", `${appId}.log`);
}

export function appUrl(record: ApplicationRecord): string {
  return `http://127.0.0.1:${record.port}`;
}

interface LiveApp {
  generation: number;
  workload: Workload | undefined;
  stopping: boolean;
}

export class ApplicationEngine {
  private readonly live = new Map<string, LiveApp>();
  /** The latest start/stop request per application: an older start that is still waiting gives up. */
  private readonly wanted = new Map<string, number>();
  private generation = 0;

  constructor(private readonly ctx: PlatformContext) {}

  /**
   * Starts (or restarts) the application; resolves once it is running or has failed. Never rejects: callers
   * fire and forget, and an unexpected error must fail this application, not end the server.
   */
  start(record: ApplicationRecord): Promise<void> {
    return this.startOrThrow(record).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      this.ctx.log(`bug: application ${record.app.id} could not start: ${message}`);
      appendLine(appLogFile(this.ctx.dataDir, record.app.id ?? ""), `cml-local: could not start: ${message}`);
      record.app.status = "APPLICATION_FAILED";
      void this.ctx.save();
    });
  }

  private async startOrThrow(record: ApplicationRecord): Promise<void> {
    const ctx = this.ctx;
    const app = record.app;
    const id = app.id ?? "";
    const generation = ++this.generation;
    this.wanted.set(id, generation);
    app.status = "APPLICATION_STARTING";
    await this.end(record, "restart");
    if (this.wanted.get(id) !== generation) return;
    const live: LiveApp = { generation, workload: undefined, stopping: false };
    this.live.set(id, live);
    app.status = "APPLICATION_STARTING";
    app.starting_at = nowIso();
    // Unset timestamps are left out, as CML does: "" is not a date-time.
    delete app.running_at;
    delete app.stopped_at;
    void ctx.save();
    const logFile = appLogFile(ctx.dataDir, id);
    appendLine(logFile, `cml-local: ${app.starting_at} starting ${app.script} on port ${record.port}`);
    const fail = (why: string) => {
      appendLine(logFile, `cml-local: ${why}`);
      if (this.live.get(id) === live) {
        app.status = "APPLICATION_FAILED";
        app.stopped_at = nowIso();
        void ctx.save();
      }
    };
    const root = projectRoot(ctx, record.projectId);
    let script: string;
    try {
      script = await resolveInProject(root, app.script ?? "");
    } catch {
      return fail(`script ${app.script} is not a valid project path`);
    }
    const how = interpreterFor(script);
    if ("error" in how) return fail(how.error);
    if (!(await portIsFree(record.port)) && !(await waitUntilFree(record.port))) {
      return fail(`port ${record.port} is in use by another process`);
    }
    const project = getProject(ctx, record.projectId);
    const env = await workloadEnv(ctx, {
      project,
      runtimeIdentifier: app.runtime_identifier,
      own: [envFromWire(app.environment)],
      engine: {
        CDSW_APP_PORT: String(record.port),
        CDSW_READONLY_PORT: String(record.readonlyPort),
        CDSW_PUBLIC_PORT: String(record.port),
        CDSW_APP_POLLING_ENDPOINT: "/",
        CDSW_ENGINE_ID: id,
      },
    });
    // A stop or a newer start came in while this one waited: it owns the application now.
    if (this.live.get(id) !== live) return;
    const workload = ctx.supervisor.spawn({ command: how.command, args: how.args, cwd: root, env, logFile });
    live.workload = workload;
    const exited = watchWorkload(ctx, id, workload, {
      what: "application",
      current: () => this.live.get(id) === live,
      stopping: () => Boolean(live.stopping),
      fail,
    });
    const up = await waitForHttp(`${appUrl(record)}/`, {
      timeoutMs: APP_START_TIMEOUT_MS,
      giveUp: () => exited() || this.live.get(id) !== live || live.stopping,
    });
    if (this.live.get(id) !== live || live.stopping) return;
    if (up) {
      app.status = "APPLICATION_RUNNING";
      app.running_at = nowIso();
      void ctx.save();
      return;
    }
    if (!exited()) {
      fail(`nothing answered on port ${record.port} within ${APP_START_TIMEOUT_MS / 1000}s`);
      await workload.stop();
    }
  }

  /** :stop, delete and shutdown: ends the process group; the status is recorded unless the platform is closing. */
  async stop(record: ApplicationRecord): Promise<void> {
    this.wanted.set(record.app.id ?? "", ++this.generation);
    await this.end(record, "stop");
    if (!this.ctx.closing) {
      record.app.status = "APPLICATION_STOPPED";
      record.app.stopped_at = nowIso();
      void this.ctx.save();
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      Object.values(this.ctx.state.applications)
        .filter((r) => this.live.has(r.app.id ?? ""))
        .map((r) => this.end(r, "stop")),
    );
  }

  private async end(record: ApplicationRecord, why: "stop" | "restart"): Promise<void> {
    const id = record.app.id ?? "";
    const live = this.live.get(id);
    if (!live) return;
    live.stopping = true;
    if (why === "stop" && !this.ctx.closing) record.app.status = "APPLICATION_STOPPING";
    this.live.delete(id);
    await live.workload?.stop();
    delete this.ctx.state.pids[id];
  }
}

async function waitUntilFree(port: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (await portIsFree(port)) return true;
  }
  return false;
}
