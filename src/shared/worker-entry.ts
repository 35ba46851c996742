import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * A worker thread's compiled entry: `file` next to the calling module when it runs compiled (dist/), else the
 * built copy under `distDir` (vitest runs the TS sources, and a worker needs JavaScript); undefined when neither
 * exists, so the caller falls back to its own thread.
 */
export function compiledWorkerEntry(callerUrl: string, file: string, distDir: string): URL | undefined {
  const sibling = new URL(`./${file}`, callerUrl);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const built = new URL(`../../../dist/${distDir}/${file}`, callerUrl);
  if (existsSync(fileURLToPath(built))) return built;
  return undefined;
}
