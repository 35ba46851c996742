/**
 * The real store opener: rag's openRetriever over the data directory ingest wrote. Until the retrieval
 * module lands on this branch, every store reports that it is not built yet (store `none` still works).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { OpenRetriever } from "./stores.js";

export function defaultDataDir(env: NodeJS.ProcessEnv, cwd: string, explicit?: string): string {
  return resolve(cwd, explicit ?? env.CML_LAB_DATA ?? "data");
}

export function dataDirReady(dataDir: string): boolean {
  return existsSync(dataDir);
}

export function openRetrieverFor(_dataDir: string, _env: NodeJS.ProcessEnv): OpenRetriever {
  return async (store) => ({ unavailable: `store ${store}: retrieval is not available in this build` });
}
