/**
 * A forward proxy on 127.0.0.1 for offline tests, as a corporate proxy behaves: CONNECT tunnels for https and
 * absolute-URI requests for plain http. It resolves host names itself from a table (host:port → a loopback
 * port), so a client that reaches a name through it proves it did not resolve or connect on its own; any
 * name not in the table gets 502 and never leaves the machine. It counts what passes through.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import type { Duplex } from "node:stream";

export interface CountingProxy {
  url: string;
  /** "CONNECT host:port" or "GET http://…" for every request that reached the proxy, in order. */
  seen: string[];
  /** Adds or changes where `host:port` leads (a port on 127.0.0.1). */
  route: (hostPort: string, localPort: number) => void;
  close: () => Promise<void>;
}

export async function startCountingProxy(routes: Record<string, number> = {}): Promise<CountingProxy> {
  const table = new Map(Object.entries(routes));
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = req.url ? new URL(req.url) : undefined;
    const port = target ? table.get(`${target.hostname}:${target.port || 80}`) : undefined;
    if (!target || port === undefined) {
      res.writeHead(502).end("no route in the test proxy");
      return;
    }
    const upstream = httpRequest(
      { host: "127.0.0.1", port, method: req.method, path: `${target.pathname}${target.search}`, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  const tunnels = new Set<Duplex>();
  server.on("connect", (req, socket, head) => {
    tunnels.add(socket);
    socket.on("close", () => tunnels.delete(socket));
    seen.push(`CONNECT ${req.url}`);
    const port = table.get(req.url ?? "");
    if (port === undefined) {
      socket.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
      return;
    }
    const upstream = connect(port, "127.0.0.1", () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    route: (hostPort, localPort) => void table.set(hostPort, localPort),
    close: () =>
      new Promise((resolve) => {
        for (const socket of tunnels) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
