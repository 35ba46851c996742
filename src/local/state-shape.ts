/** What the local platform keeps: CML wire objects plus its own records (state.ts persists it). */
import type { Schemas } from "../client/index.js";

/** Generated wire types mark output-only fields readonly; the server is the one that writes them. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type Wire<Name extends keyof Schemas> = Mutable<Schemas[Name]>;

export interface JobRecord {
  projectId: string;
  job: Wire<"Job">;
}

export interface ApplicationRecord {
  projectId: string;
  app: Wire<"Application">;
  /** Chosen once at create and kept, so the application's URL is stable across restarts. */
  port: number;
  readonlyPort: number;
}

export interface ModelRecord {
  projectId: string;
  model: Wire<"Model">;
}

export interface BuildRecord {
  projectId: string;
  build: Wire<"ModelBuild">;
}

export interface State {
  version: 1;
  projects: Record<string, Wire<"Project">>;
  jobs: Record<string, JobRecord>;
  runs: Record<string, Wire<"JobRun">>;
  applications: Record<string, ApplicationRecord>;
  models: Record<string, ModelRecord>;
  builds: Record<string, BuildRecord>;
  deployments: Record<string, Wire<"ModelDeployment">>;
  /** Process-group ids of live workloads by object id, so a restart after a crash can end leftovers. */
  pids: Record<string, number>;
}

export function emptyState(): State {
  return {
    version: 1,
    projects: {},
    jobs: {},
    runs: {},
    applications: {},
    models: {},
    builds: {},
    deployments: {},
    pids: {},
  };
}
