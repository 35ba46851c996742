import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { discardBody } from "../../shared/discard-body.js";
import { findFreePort } from "../../shared/ports.js";
import { pollUntil } from "../../shared/wait.js";
import { assertWorkloadPackages } from "../../shared/workload-packages.js";

/**
 * A real Chroma server (the Rust server bundled in the chromadb package, run through its CLI) on a directory.
 * The chromadb JS client has no embedded mode, so every workload that reads or writes Chroma talks to one of
 * these: the lab's `vectordb` application, the populate job when no application URL is given, and tests.
 */
export interface ChromaServer {
  url: string;
  port: number;
  path: string;
  /** Resolves once the process has exited. */
  close(): Promise<void>;
  /** Resolves with the exit code when the server stops by itself. */
  exited: Promise<number | null>;
}

export interface ChromaServerOptions {
  /** Directory Chroma persists to (created when missing). */
  path: string;
  host?: string;
  /** 0 or undefined: any free port. */
  port?: number;
  /** How long to wait for the heartbeat. */
  startTimeoutMs?: number;
  /** Receives the server's output lines (its banner, errors); dropped when absent. */
  log?: (line: string) => void;
}

function chromaCli(): string {
  // The server ships with the chromadb package (its bindings), a workload package (src/shared/workload-packages.ts).
  assertWorkloadPackages("the Chroma server", ["chromadb"]);
  return join(dirname(fileURLToPath(import.meta.resolve("chromadb"))), "cli.mjs");
}

export async function startChromaServer(options: ChromaServerOptions): Promise<ChromaServer> {
  const cli = chromaCli();
  const host = options.host ?? "127.0.0.1";
  const port = options.port || (await findFreePort(host));
  mkdirSync(options.path, { recursive: true });
  const child = spawn(process.execPath, [cli, "run", "--path", options.path, "--host", host, "--port", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
    // The CLI checks npm for a newer version only on `update`; nothing here touches the network.
    env: { ...process.env, ANONYMIZED_TELEMETRY: "False" },
  });
  const output: string[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 50) output.shift();
      options.log?.(line);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = `http://${host}:${port}`;
  await waitForHeartbeat(url, child, exited, options.startTimeoutMs ?? 20_000, output);
  return {
    url,
    port,
    path: options.path,
    exited,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitForHeartbeat(
  url: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  timeoutMs: number,
  output: string[],
): Promise<void> {
  let stopped = false;
  void exited.then(() => {
    stopped = true;
  });
  const heartbeat = async () => {
    try {
      const response = await fetch(`${url}/api/v2/heartbeat`, { signal: AbortSignal.timeout(1_000) });
      discardBody(response);
      return response.ok ? "ok" : `HTTP ${response.status}`;
    } catch {
      return "not listening";
    }
  };
  try {
    await pollUntil(heartbeat, {
      what: `chroma to answer ${url}/api/v2/heartbeat`,
      status: (answer) => answer,
      until: (answer) => answer === "ok",
      failWhen: () => (stopped ? `it exited (code ${child.exitCode})` : undefined),
      timeoutMs,
      intervalMs: 150,
    });
  } catch (error) {
    if (!stopped) child.kill("SIGKILL");
    throw new Error(`${error instanceof Error ? error.message : String(error)}: ${output.join(" | ")}`);
  }
}
