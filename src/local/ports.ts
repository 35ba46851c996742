/** Loopback ports for workloads: pick free ones, check one is free, and wait for one to answer HTTP. */
import { createServer } from "node:net";
import { discardBody } from "../shared/discard-body.js";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("bug: no port assigned"))));
    });
  });
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Resolves true once `url` answers any HTTP status, false when `give up` says so first. */
export async function waitForHttp(
  url: string,
  options: { giveUp: () => boolean; timeoutMs: number; intervalMs?: number },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline && !options.giveUp()) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      discardBody(response);
      return !options.giveUp();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
    }
  }
  return false;
}
