/**
 * launchers/install.py, the install job of a workspace without the cml-lab runtime, run as CML runs it (python3 in
 * the project directory) against a Node.js download site on 127.0.0.1 built from the running Node
 * (test/helpers/node-dist.ts). The project here has a package-lock.json without dependencies, so `npm ci` is
 * quick and offline; test/e2e/stock-runtime.test.ts installs the lab's real dependencies.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../src/client/index.js";
import { type NodeDist, startNodeDist } from "../helpers/node-dist.js";

const root = join(import.meta.dirname, "../..");
const INSTALL = join(root, "launchers/install.py");
const scratch = mkdtempSync(join(tmpdir(), "cml-lab-install-py-"));
let dist: NodeDist;

beforeAll(async () => {
  dist = await startNodeDist();
}, 120_000);
afterAll(async () => {
  await dist?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A project as the manifest leaves it: package.json and its lock (no dependencies here). */
function project(): string {
  const dir = mkdtempSync(join(scratch, "project-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "stock", version: "1.0.0", private: true }));
  writeFileSync(
    join(dir, "package-lock.json"),
    JSON.stringify({
      name: "stock",
      version: "1.0.0",
      lockfileVersion: 3,
      requires: true,
      packages: { "": { name: "stock", version: "1.0.0" } },
    }),
  );
  return dir;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Asynchronous: the download site answers from this process. */
function install(dir: string, env: Record<string, string> = {}, onSpawn?: (pid: number) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn("python3", [INSTALL], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        npm_config_cache: join(scratch, "npm-cache"),
        npm_config_offline: "true",
        CML_LAB_NODE_URL: dist.url,
        ...env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    if (child.pid) onSpawn?.(child.pid);
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const tarballRequests = () => dist.requests.get(new URL(dist.url).pathname) ?? 0;
const leftovers = (dir: string) =>
  existsSync(join(dir, ".cml-lab")) ? readdirSync(join(dir, ".cml-lab")).filter((n) => n !== "install.lock") : [];

describe("launchers/install.py", () => {
  it("installs Node from CML_LAB_NODE_URL after checking SHASUMS256.txt, then npm ci; a re-run fetches nothing", async () => {
    const dir = project();
    const before = tarballRequests();
    const first = await install(dir);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain(`node: SHA-256 ${dist.sha256} matches ${new URL("SHASUMS256.txt", dist.url)}`);
    expect(first.stdout).toContain(`node: ${process.version} installed in .cml-lab/node`);
    expect(first.stdout).toContain("cml-lab is installed");
    const node = join(dir, ".cml-lab/node/bin/node");
    expect(spawnSync(node, ["--version"]).stdout.toString().trim()).toBe(process.version);
    expect(spawnSync(join(dir, ".cml-lab/node/bin/npm"), ["--version"]).status).toBe(0);
    expect(readFileSync(join(dir, ".cml-lab/installed"), "utf8")).toMatch(/^package-lock.json sha256 [0-9a-f]{64}\n/);
    expect(leftovers(dir).sort()).toEqual(["installed", "node"]);
    expect(tarballRequests() - before).toBe(1);

    const again = await install(dir);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain(`node: already installed from ${dist.url}`);
    expect(again.stdout).toContain("npm: dependencies already installed for this package-lock.json");
    expect(tarballRequests() - before).toBe(1);
  }, 60_000);

  it("fails with one line and installs nothing when the tarball's SHA-256 does not match", async () => {
    const pinned = "0".repeat(64);
    const dir = project();
    const wrongPin = await install(dir, { CML_LAB_NODE_SHA256: pinned });
    expect(wrongPin.code).toBe(1);
    expect(wrongPin.stderr).toMatch(
      new RegExp(
        `^cml-lab install: ${dist.name}: SHA-256 mismatch: expected ${pinned} \\(from CML_LAB_NODE_SHA256\\), got ${dist.sha256}; nothing was installed\\n$`,
      ),
    );
    expect(leftovers(dir)).toEqual([]);

    // A damaged (or substituted) download against the published checksums.
    dist.replaceWith = Buffer.from("not node");
    try {
      const damaged = await install(dir);
      expect(damaged.code).toBe(1);
      expect(damaged.stderr).toBe(
        `cml-lab install: ${dist.name}: SHA-256 mismatch: expected ${dist.sha256} (from ${new URL("SHASUMS256.txt", dist.url)}), got ${sha256("not node")}; nothing was installed\n`,
      );
      expect(leftovers(dir)).toEqual([]);
    } finally {
      dist.replaceWith = undefined;
    }
  }, 60_000);

  it("refuses archives that would write outside their directory, before writing anything", async () => {
    const cases = hostileArchives();
    let tried = 0;
    for (const [label, bytes] of Object.entries(cases)) {
      const dir = project();
      dist.replaceWith = bytes;
      try {
        const result = await install(dir, { CML_LAB_NODE_SHA256: sha256(bytes) });
        expect(result.code, label).toBe(1);
        expect(result.stderr, label).toMatch(/^cml-lab install: node-\S+: refused to unpack: .+\n$/);
        expect(leftovers(dir), label).toEqual([]);
        expect(existsSync(join(scratch, "evil")), label).toBe(false);
        tried++;
      } finally {
        dist.replaceWith = undefined;
      }
    }
    console.log(`install.py refused ${tried} hostile archives: ${Object.keys(cases).join(", ")}`);
    expect(tried).toBe(Object.keys(cases).length);
  }, 60_000);

  it("killed while downloading or unpacking, leaves no node behind, and a re-run completes", async () => {
    let tried = 0;
    for (const stage of ["download", "unpack"] as const) {
      const dir = project();
      let pid = 0;
      dist.bytesPer50ms = stage === "download" ? 256 * 1024 : 0;
      const sentBefore = dist.sent();
      const running = install(dir, {}, (p) => {
        pid = p;
      });
      await waitFor(
        async () =>
          stage === "download"
            ? dist.sent() - sentBefore > 4 * 1024 * 1024
            : leftovers(dir).some(
                (n) => n.startsWith("tmp-install-") && existsSync(join(dir, ".cml-lab", n, "unpacked")),
              ),
        {
          what: `install.py to ${stage}`,
          status: (v) => String(v),
          until: (v) => v,
          timeoutMs: 30_000,
          intervalMs: 10,
        },
      );
      process.kill(pid, "SIGKILL");
      const killed = await running;
      expect(killed.signal, stage).toBe("SIGKILL");
      expect(existsSync(join(dir, ".cml-lab/node")), stage).toBe(false);
      expect(existsSync(join(dir, ".cml-lab/installed")), stage).toBe(false);
      dist.bytesPer50ms = 0;
      const rerun = await install(dir);
      expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
      expect(spawnSync(join(dir, ".cml-lab/node/bin/node"), ["--version"]).stdout.toString().trim()).toBe(
        process.version,
      );
      expect(leftovers(dir).sort(), stage).toEqual(["installed", "node"]);
      tried++;
    }
    console.log(`install.py killed and re-run in ${tried} stages: download, unpack`);
  }, 90_000);

  it("adds the workload packages (optional peers) by their tarball URLs: a cache `npm ci` filled holds no package documents", async () => {
    // A registry that serves tarballs only, as npm's cache does after `npm ci` with this repository's lock (no
    // `resolved` URLs): a name@version spec asks for the package document first and fails there (ENOTCACHED
    // offline on a fresh machine), the tarball URL installs. The project's npm config names a scope's registry.
    const registry = await startTarballRegistry([
      { name: "tiny-peer", version: "1.0.0" },
      { name: "@lab/tiny", version: "2.0.0", scoped: true },
    ]);
    try {
      const dir = project();
      const pins = Object.fromEntries(registry.packages.map((pkg) => [pkg.name, pkg.version]));
      const manifest = {
        name: "stock",
        version: "1.0.0",
        private: true,
        devDependencies: pins,
        peerDependencies: pins,
        peerDependenciesMeta: Object.fromEntries(registry.packages.map((pkg) => [pkg.name, { optional: true }])),
      };
      const lock = {
        name: "stock",
        version: "1.0.0",
        lockfileVersion: 3,
        requires: true,
        packages: {
          "": { ...manifest, private: undefined },
          ...Object.fromEntries(
            registry.packages.map((pkg) => [
              `node_modules/${pkg.name}`,
              { version: pkg.version, integrity: pkg.integrity, dev: true, license: "MIT" },
            ]),
          ),
        },
      };
      writeFileSync(join(dir, "package.json"), JSON.stringify(manifest, null, 2));
      writeFileSync(join(dir, "package-lock.json"), JSON.stringify(lock, null, 2));
      writeFileSync(join(dir, ".npmrc"), `@lab:registry=${registry.url}scoped/\n`);
      const before = {
        manifest: readFileSync(join(dir, "package.json")),
        lock: readFileSync(join(dir, "package-lock.json")),
      };
      const result = await install(dir, {
        npm_config_offline: "false",
        npm_config_registry: registry.url,
        npm_config_cache: mkdtempSync(join(scratch, "fresh-cache-")),
      });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      for (const pkg of registry.packages) {
        const installed = JSON.parse(readFileSync(join(dir, "node_modules", pkg.name, "package.json"), "utf8"));
        expect(installed).toMatchObject({ name: pkg.name, version: pkg.version });
      }
      expect([...new Set(registry.requests)].sort()).toEqual([
        "/scoped/@lab/tiny/-/tiny-2.0.0.tgz",
        "/tiny-peer/-/tiny-peer-1.0.0.tgz",
      ]);
      expect(readFileSync(join(dir, "package.json"))).toEqual(before.manifest);
      expect(readFileSync(join(dir, "package-lock.json"))).toEqual(before.lock);
    } finally {
      await registry.close();
    }
  }, 60_000);

  it("says in one line what is missing: the download, the project's lock file", async () => {
    const missing = await install(project(), {
      CML_LAB_NODE_URL: dist.url.replace(/[^/]+$/, "node-v0-linux-x64.tar.gz"),
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^cml-lab install: http:\/\/127\.0\.0\.1:\d+\/\S+ lists no SHA-256 for node-v0-linux-x64\.tar\.gz; set CML_LAB_NODE_SHA256 to pin one\n$/,
    );
    const notFound = await install(project(), {
      CML_LAB_NODE_URL: dist.url.replace(/[^/]+$/, "node-v0-linux-x64.tar.gz"),
      CML_LAB_NODE_SHA256: "1".repeat(64),
    });
    expect(notFound.stderr).toMatch(/^cml-lab install: http:\/\/127\.0\.0\.1:\d+\/\S+: HTTP 404 Not Found\n$/);
    const bare = mkdtempSync(join(scratch, "bare-"));
    const noLock = await install(bare);
    expect(noLock.code).toBe(1);
    expect(noLock.stderr).toBe(
      "cml-lab install: the project has no package.json and package-lock.json: sync cml-lab's build output into it first (docs/workspace.md §2b)\n",
    );
  }, 60_000);
});

interface TarballRegistry {
  url: string;
  packages: { name: string; version: string; integrity: string }[];
  /** Every path asked for, tarball or not. */
  requests: string[];
  close(): Promise<void>;
}

/** An npm registry on 127.0.0.1 that serves package tarballs (made with `npm pack`) and nothing else. */
async function startTarballRegistry(
  wanted: { name: string; version: string; scoped?: boolean }[],
): Promise<TarballRegistry> {
  const files = new Map<string, Buffer>();
  const packages = wanted.map(({ name, version, scoped }) => {
    const source = mkdtempSync(join(scratch, "pkg-"));
    writeFileSync(join(source, "package.json"), JSON.stringify({ name, version, main: "index.js", license: "MIT" }));
    writeFileSync(join(source, "index.js"), `module.exports = ${JSON.stringify(name)};\n`);
    const packed = spawnSync("npm", ["pack", "--pack-destination", source, "--silent"], { cwd: source });
    if (packed.status !== 0) throw new Error(`npm pack ${name}: ${packed.stderr}`);
    const bytes = readFileSync(join(source, packed.stdout.toString().trim()));
    const base = name.split("/").at(-1);
    files.set(`${scoped ? "/scoped" : ""}/${name}/-/${base}-${version}.tgz`, bytes);
    return { name, version, integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}` };
  });
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    requests.push(path);
    const body = files.get(path);
    response.writeHead(body ? 200 : 404, { "content-type": body ? "application/octet-stream" : "application/json" });
    response.end(body ?? JSON.stringify({ error: "Not found" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    packages,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Tarballs (made with Python's tarfile) that try to write outside the directory they are unpacked in. */
function hostileArchives(): Record<string, Buffer> {
  const out = join(scratch, "hostile");
  const script = `
import io, json, os, sys, tarfile
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
top = "node-v0-linux-x64"
def make(name, entries):
    with tarfile.open(os.path.join(out, name), "w:gz") as tar:
        for kind, path, target in entries:
            info = tarfile.TarInfo(path)
            if kind == "file":
                data = b"x"
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE}[kind]
            info.linkname = target or ""
            tar.addfile(info)
make("absolute", [("dir", top, None), ("file", "/tmp/cml-lab-evil", None)])
make("dotdot", [("dir", top, None), ("file", top + "/../../evil", None)])
make("link-absolute", [("dir", top, None), ("sym", top + "/bin", "/etc")])
make("link-up", [("dir", top, None), ("sym", top + "/up", "../..")])
make("through-link", [("dir", top, None), ("dir", top + "/bin", None), ("sym", top + "/l", "bin"), ("file", top + "/l/evil", None)])
make("hardlink-out", [("dir", top, None), ("hard", top + "/h", "../evil")])
make("device", [("dir", top, None), ("chr", top + "/tty", None)])
make("two-tops", [("file", top + "/a", None), ("file", "other/b", None)])
`;
  const made = spawnSync("python3", ["-c", script, out]);
  expect(made.status, made.stderr.toString()).toBe(0);
  return Object.fromEntries(
    readdirSync(out)
      .sort()
      .map((name) => [name, readFileSync(join(out, name))]),
  );
}
