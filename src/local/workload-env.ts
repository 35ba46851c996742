/**
 * The environment CML gives a workload (openapi/FACTS.md §3), pointed at this server: project, then the object's own
 * environment, then the engine variables (which a user cannot override, as on CML). The runtime decides whether
 * Node is there: only the cml-lab runtime has it; a stock runtime has Python and no Node (openapi/FACTS.md §10).
 */
import { delimiter, dirname } from "node:path";
import { envFromWire, type Schemas } from "../client/index.js";
import type { PlatformContext } from "./context.js";
import { hasCmlLab } from "./runtimes.js";
import { NODE_POINTERS } from "./stock-path.js";

export interface WorkloadEnvRequest {
  project: Schemas["Project"];
  runtimeIdentifier: string | undefined;
  /** The job's, run's, application's or deployment's own variables, in precedence order. */
  own: readonly Record<string, string>[];
  /** Engine variables for this kind of workload (CDSW_APP_PORT, JOB_ARGUMENTS, …). */
  engine: Record<string, string>;
}

/** Variables of the server's own environment that must not leak into workloads (they'd point elsewhere). */
const STRIPPED = /^(CML_API_|CDSW_|CML_LAB_HOME$|JOB_ARGUMENTS$)/;

export async function workloadEnv(ctx: PlatformContext, request: WorkloadEnvRequest): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!STRIPPED.test(key)) env[key] = value;
  if (hasCmlLab(request.runtimeIdentifier)) {
    // The custom runtime has Node and cml-lab installed; locally that is this node and this checkout.
    env.CML_LAB_HOME = ctx.toolkitRoot;
    env.PATH = [dirname(process.execPath), env.PATH].filter(Boolean).join(delimiter);
  } else {
    for (const key of Object.keys(env)) if (NODE_POINTERS.test(key)) delete env[key];
    env.PATH = await ctx.stockPath;
  }
  Object.assign(env, envFromWire(request.project.environment));
  for (const own of request.own) Object.assign(env, own);
  const api = new URL(ctx.apiUrl);
  Object.assign(env, {
    CDSW_PROJECT_ID: request.project.id ?? "",
    CDSW_PROJECT: request.project.name ?? "",
    CDSW_DOMAIN: api.host,
    CDSW_API_URL: `${ctx.apiUrl}/api/v1`,
    CDSW_APIV2_KEY: ctx.apiKey,
    CML_LOCAL_MODEL_SERVICE_URL: ctx.modelServiceUrl,
    ...request.engine,
  });
  return env;
}
