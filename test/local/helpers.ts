import { readFileSync } from "node:fs";
/**
 * Starts a local platform on 127.0.0.1 port 0 with its own temp data dir, and a client whose every response is
 * checked against the spec (test/spec-check.ts; problems collected in `specProblems`, asserted empty by tests).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CmlClient, createCmlClient, unwrap, uploadProjectFile, waits } from "../../src/client/index.js";
import { type LocalPlatform, type LocalPlatformOptions, startLocalPlatform } from "../../src/local/index.js";
import { validatingFetch } from "../spec-check.js";

export interface TestPlatform {
  platform: LocalPlatform;
  api: CmlClient;
  dataDir: string;
  specProblems: string[];
  close(): Promise<void>;
}

export async function startTestPlatform(options: Partial<LocalPlatformOptions> = {}): Promise<TestPlatform> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "cml-local-test-")));
  const platform = await startLocalPlatform({ ...options, dataDir });
  const specProblems: string[] = [];
  const api = clientFor(platform, specProblems);
  return {
    platform,
    api,
    dataDir,
    specProblems,
    close: async () => {
      await platform.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function clientFor(platform: LocalPlatform, specProblems: string[], retry = false): CmlClient {
  return createCmlClient({
    baseUrl: platform.apiUrl,
    apiKey: platform.apiKey,
    retry: retry ? { retries: 5, minDelayMs: 5, maxDelayMs: 50 } : false,
    fetch: validatingFetch(specProblems),
  });
}

export const PYTHON =
  "docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-pbj-workbench-python3.11-standard:2025.09.1-b5";
export const NODE = "registry.example.com/cml-lab-runtime:0.1.1";

export async function readyProject(api: CmlClient, name = "demo"): Promise<string> {
  const project = await unwrap(api.POST("/api/v2/projects", { body: { name, template: "blank" } }));
  const id = project.id ?? "";
  await waits.projectReady(api, id);
  return id;
}

export async function upload(api: CmlClient, projectId: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) await uploadProjectFile(api, projectId, path, text);
}

export async function runLogs(
  platform: LocalPlatform,
  projectId: string,
  jobId: string,
  runId: string,
): Promise<string> {
  const response = await fetch(`${platform.apiUrl}/api/v2/projects/${projectId}/jobs/${jobId}/runs/${runId}/logs`, {
    headers: { Authorization: `Bearer ${platform.apiKey}` },
  });
  return response.text();
}

/**
 * Whether a process still runs. A zombie (killed, waiting for a parent that in a container may never reap it)
 * holds no port and runs no code, so it counts as gone.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
