/** Loopback ports for workloads: pick free ones, check one is free, and wait for one to answer HTTP. */
import { createServer } from "node:net";
import { discardBody } from "../shared/discard-body.js";
import { pollUntil } from "../shared/wait.js";

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
  return pollUntil(() => answers(url), {
    what: url,
    until: (answered) => answered,
    failWhen: () => (options.giveUp() ? "given up" : undefined),
    timeoutMs: options.timeoutMs,
    intervalMs: options.intervalMs ?? 50,
  }).then(
    () => !options.giveUp(),
    () => false,
  );
}

/** Whether anything answers HTTP at `url` (any status). */
export async function answers(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    discardBody(await fetch(url, { signal: AbortSignal.timeout(timeoutMs) }));
    return true;
  } catch {
    return false;
  }
}
