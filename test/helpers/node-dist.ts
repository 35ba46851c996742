/**
 * A Node.js download site on 127.0.0.1 for launchers/install.py, offline: `/dist/<version>/` holds a
 * node-<version>-linux-x64.tar.gz made from the running Node (bin/node is process.execPath, lib/node_modules/npm and
 * the bin/npm link are the npm on PATH) and its SHASUMS256.txt, laid out as nodejs.org lays them out. Tests can
 * slow the tarball down (to stop the install mid-download), serve other bytes than the checksum names, and count
 * what was fetched.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface NodeDist {
  /** The tarball's URL, for CML_LAB_NODE_URL. */
  url: string;
  /** Its file name (node-vX-linux-x64.tar.gz). */
  name: string;
  sha256: string;
  /** Requests per path (`/dist/vX/SHASUMS256.txt`, …). */
  requests: Map<string, number>;
  /** Bytes of the tarball sent so far (all requests). */
  sent: () => number;
  /** Throttle: at most this many bytes every 50 ms (0 = full speed). */
  bytesPer50ms: number;
  /** Serve these bytes instead of the tarball (the checksum file stays as it was). */
  replaceWith: Buffer | undefined;
  close(): Promise<void>;
}

/** The tarball is ~100 MB of node; build it once per test file. */
export async function startNodeDist(): Promise<NodeDist> {
  const version = process.version;
  const name = `node-${version}-linux-x64.tar.gz`;
  const work = mkdtempSync(join(tmpdir(), "cml-lab-node-dist-"));
  const top = join(work, "stage", `node-${version}-linux-x64`);
  mkdirSync(join(top, "bin"), { recursive: true });
  cpSync(process.execPath, join(top, "bin", "node"));
  // npm-cli.js sits at <npm>/bin/npm-cli.js, whatever installed it.
  const npm = dirname(dirname(realpathSync(execFileSync("sh", ["-c", "command -v npm"]).toString().trim())));
  cpSync(npm, join(top, "lib", "node_modules", "npm"), { recursive: true, verbatimSymlinks: true });
  symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", join(top, "bin", "npm"));
  const dir = join(work, "dist", version);
  mkdirSync(dir, { recursive: true });
  const tarball = join(dir, name);
  execFileSync("tar", ["-C", join(work, "stage"), "-I", "gzip -1", "-cf", tarball, `node-${version}-linux-x64`]);
  rmSync(join(work, "stage"), { recursive: true, force: true });
  const sha256 = createHash("sha256").update(readFileSync(tarball)).digest("hex");
  const sums = `${"0".repeat(64)}  node-${version}-linux-arm64.tar.gz\n${sha256}  ${name}\n`;

  let sent = 0;
  const requests = new Map<string, number>();
  const dist: NodeDist = {
    url: "",
    name,
    sha256,
    requests,
    sent: () => sent,
    bytesPer50ms: 0,
    replaceWith: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        rmSync(work, { recursive: true, force: true });
      }),
  };
  const server: Server = createServer((request, response) => {
    const path = request.url ?? "";
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (path === `/dist/${version}/SHASUMS256.txt`) return void response.end(sums);
    if (path !== `/dist/${version}/${name}`) {
      response.statusCode = 404;
      return void response.end("not found");
    }
    if (dist.replaceWith) {
      sent += dist.replaceWith.length;
      return void response.end(dist.replaceWith);
    }
    void (async () => {
      for await (const chunk of createReadStream(tarball, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
        for (let at = 0; at < chunk.length; ) {
          if (response.destroyed) return;
          const size = dist.bytesPer50ms > 0 ? Math.min(dist.bytesPer50ms, chunk.length - at) : chunk.length - at;
          if (!response.write(chunk.subarray(at, at + size)))
            await new Promise<void>((resolve) => {
              const done = () => {
                response.off("drain", done);
                response.off("close", done);
                resolve();
              };
              response.on("drain", done);
              response.on("close", done);
            });
          sent += size;
          at += size;
          if (dist.bytesPer50ms > 0) await sleep(50);
        }
      }
      response.end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  dist.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dist/${version}/${name}`;
  return dist;
}
