/**
 * Model builds and deployments. A build loads the file in the harness and checks the function exists
 * (`built` | `build failed`). A deployment is a harness process serving the function on a private port
 * (`pending` → `deployed` | `failed`; :stop → `stopped`); the model service forwards `POST /model` to it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { envFromWire } from "../client/index.js";
import { errorMessage } from "../shared/errors.js";
import { findFreePort } from "../shared/ports.js";
import { getProject, type PlatformContext, projectRoot, watchWorkload } from "./context.js";
import type { Harnesses } from "./harness.js";
import { nowIso } from "./ids.js";
import { waitForHttp } from "./ports.js";
import { appendLine, pythonCommand, type Workload } from "./processes.js";
import { resolveInProject } from "./project-files.js";
import type { BuildRecord, Wire } from "./state.js";
import { workloadEnv } from "./workload-env.js";

export const DEPLOY_TIMEOUT_MS = 60_000;

export function buildLogFile(dataDir: string, buildId: string): string {
  return join(dataDir, "logs", "builds", `${buildId}.log`);
}

export function deploymentLogFile(dataDir: string, deploymentId: string): string {
  return join(dataDir, "logs", "deployments", `${deploymentId}.log`);
}

interface LiveDeployment {
  workload: Workload | undefined;
  port: number;
  stopping: boolean;
  ready: boolean;
}

export class ModelEngine {
  private readonly live = new Map<string, LiveDeployment>();

  constructor(
    private readonly ctx: PlatformContext,
    private readonly harnesses: Harnesses,
  ) {}

  /** Runs the build; resolves when it is `built` or `build failed`, never rejects (callers fire and forget). */
  build(record: BuildRecord): Promise<boolean> {
    return this.buildOrThrow(record).catch((error: unknown) => {
      this.ctx.log(`bug: build ${record.build.id} failed unexpectedly: ${errorMessage(error)}`);
      record.build.status = "build failed";
      void this.ctx.save();
      return false;
    });
  }

  private async buildOrThrow(record: BuildRecord): Promise<boolean> {
    const ctx = this.ctx;
    const build = record.build;
    const logFile = buildLogFile(ctx.dataDir, build.id ?? "");
    const finish = (ok: boolean, why?: string) => {
      if (why) appendLine(logFile, `cml-local: ${why}`);
      build.status = ok ? "built" : "build failed";
      if (ok) build.built_at = nowIso();
      else delete build.built_at;
      build.updated_at = nowIso();
      void ctx.save();
      return ok;
    };
    const launch = await this.harnessCommand(record);
    if ("error" in launch) return finish(false, launch.error);
    const workload = ctx.supervisor.spawn({
      command: launch.command,
      args: [...launch.args, "--check"],
      cwd: launch.cwd,
      env: launch.env,
      logFile,
    });
    const exit = await workload.exited;
    if (exit.code === 0) return finish(true);
    return finish(false, `build check exited with ${exit.spawnError ?? exit.code ?? exit.signal}`);
  }

  /** Starts (or restarts) a deployment; resolves once it is deployed or failed, never rejects. */
  deploy(deployment: Wire<"ModelDeployment">): Promise<void> {
    return this.deployOrThrow(deployment).catch((error: unknown) => {
      this.ctx.log(`bug: deployment ${deployment.id} failed unexpectedly: ${errorMessage(error)}`);
      deployment.status = "failed";
      void this.ctx.save();
    });
  }

  private async deployOrThrow(deployment: Wire<"ModelDeployment">): Promise<void> {
    const ctx = this.ctx;
    const id = deployment.id ?? "";
    await this.end(id);
    const record = ctx.state.builds[deployment.build_id ?? ""];
    const logFile = deploymentLogFile(ctx.dataDir, id);
    const live: LiveDeployment = { workload: undefined, port: 0, stopping: false, ready: false };
    this.live.set(id, live);
    deployment.status = "pending";
    delete deployment.stopped_at;
    deployment.updated_at = nowIso();
    const fail = (why: string) => {
      appendLine(logFile, `cml-local: ${why}`);
      if (this.live.get(id) !== live) return;
      this.live.delete(id);
      deployment.status = "failed";
      deployment.updated_at = nowIso();
      void ctx.save();
    };
    if (!record) return fail(`build ${deployment.build_id} no longer exists`);
    const launch = await this.harnessCommand(record, envFromWire(deployment.environment));
    if ("error" in launch) return fail(launch.error);
    live.port = await findFreePort();
    if (this.live.get(id) !== live) return;
    const workload = ctx.supervisor.spawn({
      command: launch.command,
      args: launch.args,
      cwd: launch.cwd,
      env: { ...launch.env, CML_LOCAL_MODEL_PORT: String(live.port), CDSW_ENGINE_ID: id },
      logFile,
    });
    live.workload = workload;
    const exited = watchWorkload(ctx, id, workload, {
      what: "model",
      current: () => this.live.get(id) === live,
      stopping: () => Boolean(live.stopping),
      fail,
    });
    const up = await waitForHttp(`http://127.0.0.1:${live.port}/`, {
      timeoutMs: DEPLOY_TIMEOUT_MS,
      giveUp: () => exited() || this.live.get(id) !== live,
    });
    if (this.live.get(id) !== live) return;
    if (up) {
      live.ready = true;
      deployment.status = "deployed";
      deployment.updated_at = nowIso();
      void ctx.save();
      return;
    }
    if (!exited()) {
      fail(`the model did not answer within ${DEPLOY_TIMEOUT_MS / 1000}s`);
      await workload.stop();
    }
  }

  async stop(deployment: Wire<"ModelDeployment">): Promise<void> {
    await this.end(deployment.id ?? "");
    if (this.ctx.closing) return;
    deployment.status = "stopped";
    deployment.stopped_at = nowIso();
    deployment.updated_at = nowIso();
    void this.ctx.save();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.live.keys()].map((id) => this.end(id)));
  }

  /** The port of a deployment that is serving, if any. */
  servingPort(deploymentId: string): number | undefined {
    const live = this.live.get(deploymentId);
    return live?.ready ? live.port : undefined;
  }

  private async end(id: string): Promise<void> {
    const live = this.live.get(id);
    if (!live) return;
    live.stopping = true;
    this.live.delete(id);
    await live.workload?.stop();
    delete this.ctx.state.pids[id];
  }

  private async harnessCommand(
    record: BuildRecord,
    ownEnv: Record<string, string> = {},
  ): Promise<{ command: string; args: string[]; cwd: string; env: NodeJS.ProcessEnv } | { error: string }> {
    const ctx = this.ctx;
    const build = record.build;
    const root = projectRoot(ctx, record.projectId);
    let cwd = root;
    let file: string;
    try {
      if (build.model_root_dir) cwd = await resolveInProject(root, build.model_root_dir);
      file = await resolveInProject(root, build.file_path ?? "");
    } catch {
      return { error: `file_path ${build.file_path} is not a valid project path` };
    }
    if (!existsSync(file)) return { error: `file ${build.file_path} not found in project` };
    const fn = build.function_name ?? "";
    const project = getProject(ctx, record.projectId);
    const env = await workloadEnv(ctx, {
      project,
      runtimeIdentifier: build.runtime_identifier,
      own: [ownEnv],
      engine: { CDSW_MODEL_ID: build.model_id ?? "", CDSW_BUILD_ID: build.id ?? "" },
    });
    if (/\.(py)$/i.test(file)) {
      env.PYTHONPATH = [this.harnesses.pythonPath, env.PYTHONPATH].filter(Boolean).join(":");
      return { command: pythonCommand(), args: ["-u", this.harnesses.python, file, fn], cwd, env };
    }
    if (/\.(js|mjs|cjs)$/i.test(file)) {
      return {
        command: process.execPath,
        args: ["--experimental-detect-module", this.harnesses.node, file, fn],
        cwd,
        env,
      };
    }
    return { error: `cannot serve ${build.file_path}: model files must be .py, .js or .mjs` };
  }
}
