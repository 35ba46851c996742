/**
 * A package-lock.json for a project that depends on nothing but the packed cml-lab tarball, built from this
 * repository's lock: the tests install it with `npm install --offline`, from the npm cache that the repository's own
 * `npm ci` filled, because resolving without a lock needs the registry's metadata and tests do not touch the
 * network. What goes in follows npm's rules for a dependent project, walked from the tarball's own package.json:
 * dependencies, optionalDependencies and non-optional peers, each resolved the way Node looks a package up
 * (nearest node_modules first), at the versions this repository locks. Optional peers are not followed: npm
 * does not install them for a dependent either. A package this repository `overrides` is locked at a version
 * a dependent would not get (overrides apply to the root project only), so it is left out when optional and
 * refused otherwise.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

interface Manifest {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

/** The fields of a package's own manifest that npm keeps in a lock entry. */
const LOCKED_FIELDS = [
  "license",
  "dependencies",
  "optionalDependencies",
  "peerDependencies",
  "peerDependenciesMeta",
  "bin",
  "engines",
];

function edges(manifest: Manifest, withOptional: boolean): [name: string, optional: boolean][] {
  const optionalPeer = (name: string) => manifest.peerDependenciesMeta?.[name]?.optional === true;
  return [
    ...Object.keys(manifest.dependencies ?? {}).map((name): [string, boolean] => [name, false]),
    ...Object.keys(manifest.peerDependencies ?? {})
      .filter((name) => !optionalPeer(name))
      .map((name): [string, boolean] => [name, false]),
    ...(withOptional
      ? Object.keys(manifest.optionalDependencies ?? {}).map((name): [string, boolean] => [name, true])
      : []),
  ];
}

/**
 * `tarball` is the file name the consumer's package.json points at (`file:<tarball>`), `bytes` its content,
 * `manifest` the package.json inside it.
 */
export function consumerLock(repoLockFile: string, manifest: Manifest, tarball: string, bytes: Buffer): object {
  const locked = (JSON.parse(readFileSync(repoLockFile, "utf8")) as { packages: Record<string, Manifest> }).packages;
  const repo = JSON.parse(readFileSync(join(dirname(repoLockFile), "package.json"), "utf8")) as Manifest;
  const overridden = new Set(Object.keys((repo.overrides as Record<string, unknown> | undefined) ?? {}));
  // The repository's root plays cml-lab's part: its dependencies sit at node_modules/<name> in both trees.
  const find = (from: string, name: string): string | undefined => {
    for (let at = from; ; ) {
      const path = `${at ? `${at}/` : ""}node_modules/${name}`;
      if (locked[path]) return path;
      if (!at) return undefined;
      const cut = at.lastIndexOf("/node_modules/");
      at = cut < 0 ? "" : at.slice(0, cut);
    }
  };
  const walk = (withOptional: boolean): Set<string> => {
    const seen = new Set<string>();
    const queue: [string, Manifest][] = [["", manifest]];
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [at, node] = next;
      for (const [name, optional] of edges(node, withOptional)) {
        if (overridden.has(name)) {
          if (optional) continue;
          throw new Error(`${name} is overridden in package.json: a dependent gets another version`);
        }
        const path = find(at, name);
        if (!path) {
          if (optional) continue;
          throw new Error(`${name}, needed by ${at || "cml-lab"}, is not in package-lock.json`);
        }
        if (!seen.has(path)) {
          seen.add(path);
          queue.push([path, locked[path] ?? {}]);
        }
      }
    }
    return seen;
  };
  // Reached only through optional edges: optional, so npm skips those built for another platform.
  const required = walk(false);
  const packages: Record<string, object> = {
    "": { name: "consumer", dependencies: { "cml-lab": `file:${tarball}` } },
    "node_modules/cml-lab": {
      version: manifest.version,
      resolved: `file:${tarball}`,
      integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
      ...Object.fromEntries(LOCKED_FIELDS.filter((field) => manifest[field]).map((field) => [field, manifest[field]])),
    },
  };
  for (const path of [...walk(true)].sort()) {
    const { dev, devOptional, peer, optional, ...entry } = locked[path] ?? {};
    packages[path] = required.has(path) ? entry : { ...entry, optional: true };
  }
  return { name: "consumer", lockfileVersion: 3, requires: true, packages };
}
