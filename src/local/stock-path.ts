/**
 * The `PATH` a workload on a stock runtime gets. Cloudera's standard runtimes ship Python and no Node.js
 * (openapi/FACTS.md §10), so there a workload that needs Node must install it (launchers/install.py). Locally the
 * server's own `PATH` usually has node in a directory it shares with python3 and bash (`/usr/bin`), so that
 * directory cannot simply be dropped: it is replaced by a view of it, a directory of symbolic links to everything
 * in it except Node's programs. Without this a manifest that forgot its install job would still work here.
 */
import { mkdir, readdir, rm, symlink } from "node:fs/promises";
import { basename, delimiter, isAbsolute, join } from "node:path";

/** What a Node.js installation puts on PATH (its tarball's bin/, Debian's nodejs package). */
const NODE_PROGRAMS = new Set(["node", "nodejs", "npm", "npx", "corepack", basename(process.execPath)]);

/** Variables that point at the server's node, set by npm (`npm start`) and nvm; a stock runtime has none. */
export const NODE_POINTERS = /^(NODE|npm_node_execpath|npm_execpath|NVM_BIN)$/;

/**
 * Builds the views under `<dataDir>/runtimes/stock-path/` (afresh at every start, so they follow what is
 * installed) and returns the PATH that uses them.
 */
export async function stockRuntimePath(dataDir: string, path = process.env.PATH ?? ""): Promise<string> {
  const root = join(dataDir, "runtimes", "stock-path");
  await rm(root, { recursive: true, force: true });
  const entries: string[] = [];
  for (const [index, dir] of path.split(delimiter).entries()) {
    // A relative entry would resolve against the project directory; nothing of the server's lives there.
    if (!dir || !isAbsolute(dir)) continue;
    const names = await readdir(dir).catch(() => undefined);
    if (!names?.some((name) => NODE_PROGRAMS.has(name))) {
      entries.push(dir);
      continue;
    }
    const view = join(root, String(index));
    await mkdir(view, { recursive: true });
    for (const name of names) if (!NODE_PROGRAMS.has(name)) await symlink(join(dir, name), join(view, name));
    entries.push(view);
  }
  return entries.join(delimiter);
}
