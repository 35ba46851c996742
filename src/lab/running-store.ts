/**
 * The store of the lab that `npm start` runs, for `cml-lab query` and `cml-lab app` started outside the platform.
 *
 * After `npm start` the lab's passages live in the local platform's Chroma (the `vectordb` application), with the
 * lexical side in the project's `data/`, not in `./data`. The lookup is explicit and narrow: it happens only when
 * the command has no store of its own (`./data` holds no local index and no Chroma URL is set), it reads the local
 * platform of `.cml-local` (or `--platform-dir`) only if that platform is running, and the command says on stderr
 * which store it used.
 */
import { isAbsolute, join, relative } from "node:path";
import { findOneByName } from "../client/index.js";
import { localPlatform, openTarget, resolveConnection } from "../deploy/connection.js";
import { runningServer } from "../local/daemon.js";
import { projectDir } from "../local/project-files.js";
import { platformDir as platformDirFrom } from "../shared/cli-options.js";

/** The project `npm start` applies (manifests/lab.yaml without a suffix). */
export const LAB_PROJECT = "LLM Hands-on Lab";

export interface LabStore {
  /** The vectordb application's URL. */
  chromaUrl: string;
  /** The project's data directory, where populate-chroma wrote the lexical side of the index. */
  dataDir: string;
}

/** The running lab's Chroma store, or undefined when no local platform runs the lab here. */
export async function findLabStore(platformDir: string): Promise<LabStore | undefined> {
  if (!(await runningServer(platformDir))) return undefined;
  const connection = await resolveConnection({ target: "local", dataDir: platformDir, env: {}, cwd: platformDir });
  const { api } = openTarget(connection);
  const project = await findOneByName(api, "project", { name: LAB_PROJECT });
  if (!project?.id) return undefined;
  const vectordb = await findOneByName(api, "application", { projectId: project.id, name: "vectordb" });
  if (!vectordb?.id || !vectordb.subdomain) return undefined;
  // This is the local platform by construction: it says where the application's process listens.
  const url = await localPlatform(api).appUrl({
    id: vectordb.id,
    subdomain: vectordb.subdomain,
    projectId: project.id,
  });
  if (!url) return undefined;
  return { chromaUrl: url, dataDir: join(projectDir(platformDir, project.id), "data") };
}

export interface StoreSetup {
  /** The data directory the command reads. */
  dataDir: string;
  /** The environment the command's stores are configured from (with the lab's Chroma URL when it is used). */
  env: NodeJS.ProcessEnv;
  /** Set when the running lab's store is used. */
  lab?: LabStore;
}

/**
 * Where `query`/`app` read from: `./data` (or --data-dir / $CML_LAB_DATA) when it holds a local index or a Chroma URL
 * is configured; otherwise the running lab's Chroma when there is one; otherwise `./data` as before (the command
 * then says there is nothing ingested).
 */
export async function resolveStores(options: {
  dataDir: string;
  dataDirReady: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  platformDir?: string;
  chromaConfigured: boolean;
}): Promise<StoreSetup> {
  const own = { dataDir: options.dataDir, env: options.env };
  if (options.dataDirReady || options.chromaConfigured) return own;
  const lab = await findLabStore(platformDirFrom(options, options.platformDir));
  if (!lab) return own;
  return { dataDir: lab.dataDir, env: { ...options.env, CML_LAB_CHROMA_URL: lab.chromaUrl }, lab };
}

/** The stderr line that says which store a command uses. */
export function describeLabStore(lab: LabStore, ownDataDir: string, cwd: string): string {
  const rel = relative(cwd, ownDataDir);
  const shown = rel.startsWith("..") || isAbsolute(rel) ? ownDataDir : `./${rel}`;
  return `store: the running lab's Chroma at ${lab.chromaUrl} (passages indexed by populate-chroma; ${shown} has no local index)`;
}
