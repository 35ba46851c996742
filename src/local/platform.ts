/**
 * startLocalPlatform: the CML-compatible API server and the model service on 127.0.0.1, backed by a data
 * directory, running workloads as child processes. Library API (others code against it; keep the names).
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile } from "node:fs/promises";
import { IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createAdaptorServer } from "@hono/node-server";
import { envFromWire, redact } from "../client/index.js";
import { writeFileAtomic } from "../shared/atomic-write.js";
import { ApplicationEngine } from "./applications.js";
import type { PlatformContext } from "./context.js";
import { errorResponse } from "./errors.js";
import { EXTENSION_ROUTES } from "./extension-routes.js";
import { type FaultConfig, type FaultController, Faults } from "./faults.js";
import { applicationHandlers } from "./handlers/applications.js";
import { fileHandlers } from "./handlers/files.js";
import { jobHandlers } from "./handlers/jobs.js";
import { modelHandlers } from "./handlers/models.js";
import { projectHandlers } from "./handlers/projects.js";
import { runtimeHandlers } from "./handlers/runtimes.js";
import { writeHarnesses } from "./harness.js";
import { apiKey as newApiKey, nowIso } from "./ids.js";
import { createModelService } from "./model-service.js";
import { ModelEngine } from "./models.js";
import { appendLine, endLeftoverWorkloads, resolvePython, Supervisor, workloadScope } from "./processes.js";
import { isActive, RunEngine, runLogFile } from "./runs.js";
import { Scheduler } from "./schedules.js";
import { createDispatcher, type Dispatcher } from "./server.js";
import { type State, StateStore } from "./state.js";
import { stockRuntimePath } from "./stock-path.js";

export interface LocalPlatformOptions {
  dataDir: string;
  /** 0 (default) = any free port. */
  port?: number;
  /** What `CML_LAB_HOME` points at for workloads on the cml-lab runtime (default: this checkout). */
  toolkitRoot?: string;
  /** Test-only fault injection; also adjustable later through `faults`. */
  faults?: FaultConfig;
  /**
   * Whether a second project may take a name already in use. CML's rule is not documented (openapi/FACTS.md is silent):
   * refused with 409 by default; tests allow duplicates to prove the engine copes with either.
   */
  duplicateProjectNames?: boolean;
  /** Test-only: the time cron schedules are evaluated at (default: the wall clock). */
  clock?: () => Date;
  log?: (line: string) => void;
}

export interface LocalPlatform {
  /** Origin to give `createCmlClient` as `baseUrl`. */
  apiUrl: string;
  apiKey: string;
  /** Origin of the model service; the endpoint is `${modelServiceUrl}/model`. */
  modelServiceUrl: string;
  dataDir: string;
  faults: FaultController;
  /** Ends every workload's process group, frees every port and writes the state. */
  close(): Promise<void>;
}

export const API_KEY_FILE = "api-key";

export async function startLocalPlatform(options: LocalPlatformOptions): Promise<LocalPlatform> {
  const dataDir = resolve(options.dataDir);
  // The directory holds the API key and every environment value (state.json): its user's alone.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const apiKey = await loadOrCreateApiKey(dataDir);
  const store = await StateStore.open(dataDir, { repair: true });
  // Log lines can quote a failing value (Node's argument errors do): no environment value or key reaches the log.
  const log = (line: string) => options.log?.(redact(line, [apiKey, ...environmentValues(store.state)]));
  for (const finding of store.findings) log(`state: ${finding}`);
  const leftovers = endLeftoverWorkloads(dataDir, Object.values(store.state.pids));
  if (leftovers > 0) log(`ended ${leftovers} workload processes a previous server of ${dataDir} left running`);
  store.state.pids = {};

  await resolvePython();
  const faults = new Faults(options.faults);
  let dispatch: Dispatcher | undefined;
  const apiServer = createHttpServer(async (request, incoming) =>
    dispatch ? dispatch(request, incoming) : errorResponse(503, "the local platform is starting"),
  );
  let modelService: ((request: Request) => Promise<Response>) | undefined;
  const modelServer = createHttpServer(async (request) =>
    modelService ? modelService(request) : errorResponse(503, "the model service is starting"),
  );
  const apiPort = await listen(apiServer, options.port ?? 0);
  const modelPort = await listen(modelServer, 0);

  const ctx: PlatformContext = {
    dataDir,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    apiKey,
    modelServiceUrl: `http://127.0.0.1:${modelPort}`,
    toolkitRoot: options.toolkitRoot ?? defaultToolkitRoot(),
    stockPath: stockRuntimePath(dataDir, log),
    store,
    state: store.state,
    supervisor: new Supervisor(workloadScope(dataDir)),
    log,
    closing: false,
    duplicateProjectNames: options.duplicateProjectNames ?? false,
    // Most callers fire and forget; a failed write is logged instead of becoming an unhandled rejection.
    save: () =>
      store.save().catch((error: unknown) => {
        log(`could not save the platform state: ${error instanceof Error ? error.message : String(error)}`);
      }),
  };
  const runs = new RunEngine(ctx);
  const scheduler = new Scheduler(ctx, runs, options.clock);
  const apps = new ApplicationEngine(ctx);
  const models = new ModelEngine(ctx, await writeHarnesses(dataDir));
  markInterruptedRuns(ctx);

  dispatch = createDispatcher(
    ctx,
    {
      ...projectHandlers(ctx, {
        deleteProjectObjects: async (projectId) => {
          await runs.stopAll((run) => run.project_id === projectId);
          for (const [id, record] of Object.entries(ctx.state.jobs))
            if (record.projectId === projectId) delete ctx.state.jobs[id];
          for (const [id, run] of Object.entries(ctx.state.runs))
            if (run.project_id === projectId) delete ctx.state.runs[id];
        },
      }),
      ...fileHandlers(ctx),
      ...runtimeHandlers(),
      ...jobHandlers(ctx, runs),
      ...applicationHandlers(ctx, apps),
      ...modelHandlers(ctx, models),
    },
    EXTENSION_ROUTES,
    faults,
  );
  modelService = createModelService(ctx, models);
  resumeApplications(ctx, apps);
  resumeDeployments(ctx, models);
  scheduler.start();
  await store.save();
  log(`local platform listening on ${ctx.apiUrl} (data ${dataDir})`);

  let closed: Promise<void> | undefined;
  return {
    apiUrl: ctx.apiUrl,
    apiKey,
    modelServiceUrl: ctx.modelServiceUrl,
    dataDir,
    faults,
    close: () => {
      closed ??= (async () => {
        ctx.closing = true;
        scheduler.stop();
        // Still writing the stock runtime's PATH views into the data dir: let it finish before anyone removes it.
        await ctx.stockPath;
        await runs.stopAll();
        await apps.stopAll();
        await models.stopAll();
        await ctx.supervisor.stopAll();
        await Promise.all([closeServer(apiServer), closeServer(modelServer)]);
        await store.save();
        store.stop();
      })();
      return closed;
    },
  };
}

async function loadOrCreateApiKey(dataDir: string): Promise<string> {
  const file = join(dataDir, API_KEY_FILE);
  if (existsSync(file)) {
    const key = (await readFile(file, "utf8")).trim();
    await chmod(file, 0o600);
    if (key) return key;
  }
  const key = newApiKey();
  await writeFileAtomic(file, `${key}\n`, 0o600);
  return key;
}

function defaultToolkitRoot(): string {
  // src/local/platform.ts and dist/local/platform.js both sit two levels below the repository root.
  return fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
}

/** Every environment value the platform holds, for redaction. */
function environmentValues(state: State): string[] {
  const wires = [
    ...Object.values(state.projects).map((p) => p.environment),
    ...Object.values(state.jobs).map((r) => r.job.environment),
    ...Object.values(state.runs).map((r) => r.environment),
    ...Object.values(state.applications).map((r) => r.app.environment),
    ...Object.values(state.deployments).map((d) => d.environment),
  ];
  return wires.flatMap((wire) => Object.values(envFromWire(wire)));
}

/** Runs that were active when the previous server died (not a clean close) cannot be resumed. */
function markInterruptedRuns(ctx: PlatformContext): void {
  for (const run of Object.values(ctx.state.runs)) {
    if (!isActive(run)) continue;
    run.status = "ENGINE_FAILED";
    run.finished_at = nowIso();
    appendLine(runLogFile(ctx.dataDir, run.id ?? ""), "cml-local: the platform stopped while this run was active");
  }
}

/** Applications that were starting or running when the platform last stopped are started again, as CML does. */
function resumeApplications(ctx: PlatformContext, apps: ApplicationEngine): void {
  for (const record of Object.values(ctx.state.applications)) {
    const status = record.app.status;
    if (status === "APPLICATION_RUNNING" || status === "APPLICATION_STARTING") void apps.start(record);
  }
}

/** Deployments that were serving (or on their way) when the platform last stopped are started again. */
function resumeDeployments(ctx: PlatformContext, models: ModelEngine): void {
  for (const record of Object.values(ctx.state.builds))
    if (record.build.status === "pending") void models.build(record);
  for (const deployment of Object.values(ctx.state.deployments)) {
    if (deployment.status === "deployed" || deployment.status === "pending") void models.deploy(deployment);
  }
}

function createHttpServer(
  handler: (request: Request, incoming: IncomingMessage | undefined) => Promise<Response>,
): Server {
  const server = createAdaptorServer({
    fetch: (request, env) => handler(request, env.incoming instanceof IncomingMessage ? env.incoming : undefined),
    hostname: "127.0.0.1",
    // Keep the process's own fetch/Response: in-process clients (tests, npm start) share these globals.
    overrideGlobalObjects: false,
  });
  if (!("closeAllConnections" in server)) throw new Error("bug: expected an HTTP/1 server");
  return server;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("bug: server has no TCP address"));
      else resolveListen((address satisfies AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}
