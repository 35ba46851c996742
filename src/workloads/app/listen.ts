/**
 * Binds the chat app to a port. CML runs an application's script with CDSW_APP_PORT set and fronts it with
 * its own proxy, so the default host is loopback; PORT is the common convention elsewhere.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { type ChatAppOptions, createChatService } from "./server.js";

export interface ListenOptions extends Omit<ChatAppOptions, "clientKey"> {
  port?: number;
  host?: string;
}

export interface RunningChatServer {
  url: string;
  port: number;
  /** Settles when the start-up warm (warmAtStart) has finished; /healthz says ready from then on. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function resolvePort(explicit: number | undefined, env: NodeJS.ProcessEnv): number {
  if (explicit !== undefined) return explicit;
  for (const name of ["CDSW_APP_PORT", "PORT"]) {
    const value = env[name];
    if (value && /^\d+$/.test(value)) return Number(value);
  }
  return 8100;
}

/**
 * The client a request counts against for the concurrency cap. Behind CML's proxy every request comes from
 * the proxy, so CML_LAB_TRUST_PROXY=1 switches to the first X-Forwarded-For address.
 */
export function clientKeyFor(env: NodeJS.ProcessEnv): (c: Context) => string {
  const trustProxy = env.CML_LAB_TRUST_PROXY === "1" || env.CML_LAB_TRUST_PROXY === "true";
  return (c) => {
    if (trustProxy) {
      const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
      if (forwarded) return forwarded;
    }
    try {
      return getConnInfo(c).remote.address ?? "unknown";
    } catch {
      return "unknown";
    }
  };
}

export async function startChatServer(options: ListenOptions): Promise<RunningChatServer> {
  const service = createChatService({ ...options, clientKey: clientKeyFor(options.env) });
  const app = service.app;
  const host = options.host ?? "127.0.0.1";
  const port = resolvePort(options.port, options.env);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info: AddressInfo) => {
      const shownHost = host.includes(":") ? `[${host}]` : host;
      resolve({
        url: `http://${shownHost}:${info.port}`,
        port: info.port,
        ready: service.ready,
        close: async () => {
          await new Promise<void>((done) => {
            server.close(() => done());
            // Open SSE streams would keep close() waiting; end them.
            if ("closeAllConnections" in server) server.closeAllConnections();
          });
          // Retrieval threads and the index watcher.
          await service.close();
        },
      });
    });
    server.once("error", (error) => {
      void service.close();
      reject(error);
    });
  });
}
