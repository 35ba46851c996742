/**
 * Everything the platform knows, as CML wire objects plus the little it needs besides (which project an
 * application belongs to, its ports, the pids of running workloads). Persisted as one JSON file written
 * atomically (temp file + rename), so a crash leaves either the old or the new state, never half of one.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
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

export class StateStore {
  private writing: Promise<void> = Promise.resolve();
  private pending = false;
  private stopped = false;

  private constructor(
    readonly file: string,
    readonly state: State,
  ) {}

  static async open(dataDir: string): Promise<StateStore> {
    const file = join(dataDir, "state.json");
    let text: string | undefined;
    try {
      text = await readFile(file, "utf8");
    } catch {
      text = undefined;
    }
    // State written before unset timestamps were left out holds "" for them, which is not a date-time: drop those.
    const parsed: unknown =
      text === undefined
        ? undefined
        : JSON.parse(text, (key, value) => (key.endsWith("_at") && value === "" ? undefined : value));
    return new StateStore(file, isState(parsed) ? { ...emptyState(), ...parsed } : emptyState());
  }

  /**
   * Writes the current state; calls made while a write is in flight coalesce into one more write. A failed write
   * does not poison the chain (the next save tries again), and after `stop()` saves are no-ops: timers of
   * workloads that end during shutdown must not write into a data directory that may already be gone.
   */
  save(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.pending) return this.writing;
    this.pending = true;
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        this.pending = false;
        if (this.stopped) return;
        await writeFileAtomic(this.file, `${JSON.stringify(this.state, null, 1)}\n`);
      });
    return this.writing;
  }

  /** The last save (awaited by close) has happened: later changes are not persisted. */
  stop(): void {
    this.stopped = true;
  }
}

function isState(value: unknown): value is State {
  return typeof value === "object" && value !== null && "version" in value && value.version === 1;
}

let tmpCounter = 0;

export async function writeFileAtomic(file: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, file);
}
