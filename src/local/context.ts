/**
 * What every handler and workload engine shares: where things are, the state, and the process supervisor.
 */
import type { Schemas } from "../client/index.js";
import { notFound } from "./errors.js";
import type { Supervisor, Workload } from "./processes.js";
import { projectDir } from "./project-files.js";
import type { State, StateStore, Wire } from "./state.js";

export interface PlatformContext {
  dataDir: string;
  /** Origin of the API server, e.g. `http://127.0.0.1:4567`. */
  apiUrl: string;
  apiKey: string;
  /** Origin of the model service; the endpoint is `${modelServiceUrl}/model`. */
  modelServiceUrl: string;
  toolkitRoot: string;
  /**
   * PATH of workloads on runtimes other than cml-lab's: the server's, without Node (src/local/stock-path.ts). Made
   * in the background from the start (it takes a moment), awaited by the first such workload.
   */
  stockPath: Promise<string>;
  store: StateStore;
  state: State;
  supervisor: Supervisor;
  log: (line: string) => void;
  /** Set while close() runs: workloads ended by shutdown keep their "should be running" state for the next start. */
  closing: boolean;
  /** See LocalPlatformOptions.duplicateProjectNames. */
  duplicateProjectNames: boolean;
  save(): Promise<void>;
}

export const LOCAL_USER: Schemas["ShortUser"] = { username: "local", name: "Local User", email: "local@localhost" };

export function getProject(ctx: PlatformContext, projectId: string): Wire<"Project"> {
  const project = ctx.state.projects[projectId];
  if (!project) throw notFound(`project ${projectId} not found`);
  return project;
}

export function projectRoot(ctx: PlatformContext, projectId: string): string {
  return projectDir(ctx.dataDir, projectId);
}

export function shortProject(project: Schemas["Project"]): Schemas["ShortProject"] {
  return {
    public_identifier: project.id ?? "",
    name: project.name ?? "",
    slug: project.slug ?? "",
    default_project_engine: project.default_engine_type ?? "ml_runtime",
  };
}

/**
 * Records a long-running workload's pid (so a restarted platform can end leftovers) and reports an exit nobody
 * asked for: not a stop, not a shutdown, and not a process this object has since replaced. Returns whether it
 * has exited, for readiness waits to give up on.
 */
export function watchWorkload(
  ctx: PlatformContext,
  id: string,
  workload: Workload,
  options: { what: string; current: () => boolean; stopping: () => boolean; fail: (reason: string) => void },
): () => boolean {
  if (workload.pid !== undefined) ctx.state.pids[id] = workload.pid;
  let exited = false;
  void workload.exited.then((exit) => {
    exited = true;
    if (!options.current()) return;
    delete ctx.state.pids[id];
    if (options.stopping() || ctx.closing) return;
    options.fail(`${options.what} process exited with ${exit.spawnError ?? exit.code ?? exit.signal}`);
  });
  return () => exited;
}
