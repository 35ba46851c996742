/**
 * The `PATH` a workload on a stock runtime gets. Cloudera's standard runtimes ship Python and no Node.js
 * (openapi/FACTS.md §10), so there a workload that needs Node must install it (launchers/install.py). Locally the
 * server's own `PATH` usually has node in a directory it shares with python3 and bash (`/usr/bin`), so that
 * directory cannot simply be dropped: it is replaced by a view of it, a directory of symbolic links to everything
 * in it except Node's programs. Without this a manifest that forgot its install job would still work here.
 */
import { mkdir, readdir, realpath, rm, symlink } from "node:fs/promises";
import { basename, delimiter, isAbsolute, join } from "node:path";

/** What a Node.js installation puts on PATH (its tarball's bin/, Debian's nodejs package). */
const NODE_PROGRAMS = new Set(["node", "nodejs", "npm", "npx", "corepack", basename(process.execPath)]);

/** Variables that point at the server's node, set by npm (`npm start`) and nvm; a stock runtime has none. */
export const NODE_POINTERS = /^(NODE|npm_node_execpath|npm_execpath|NVM_BIN)$/;

/** Links made at once: a directory such as /usr/bin has a thousand entries, and each link is a slow file creation. */
const BATCH = 64;

/**
 * Builds the views under `<dataDir>/runtimes/stock-path/` (afresh at every start, so they follow what is
 * installed; one per real directory, `/bin` → `/usr/bin` is made once) and returns the PATH that uses them.
 * When a view cannot be made, its directory is left out, with a log line: no Node is the promise. Never rejects.
 */
export async function stockRuntimePath(
  dataDir: string,
  log: (line: string) => void,
  path = process.env.PATH ?? "",
): Promise<string> {
  const root = join(dataDir, "runtimes", "stock-path");
  await rm(root, { recursive: true, force: true }).catch(() => undefined);
  const views = new Map<string, Promise<string | undefined>>();
  const entries = await Promise.all(
    path.split(delimiter).map(async (dir): Promise<string | undefined> => {
      // A relative entry would resolve against the project directory; nothing of the server's lives there.
      if (!dir || !isAbsolute(dir)) return undefined;
      const real = await realpath(dir).catch(() => undefined);
      if (!real) return dir;
      let view = views.get(real);
      if (!view) {
        view = viewOf(real, join(root, String(views.size))).catch((error: unknown) => {
          log(`stock runtime: left ${real} out of PATH (no view without node: ${String(error)})`);
          return undefined;
        });
        views.set(real, view);
      }
      const made = await view;
      return made === real ? dir : made;
    }),
  );
  return entries.filter((e): e is string => e !== undefined).join(delimiter);
}

/** `dir` itself when it holds no Node program, else `view` filled with links to everything else in it. */
async function viewOf(dir: string, view: string): Promise<string> {
  const names = await readdir(dir).catch(() => undefined);
  if (!names?.some((name) => NODE_PROGRAMS.has(name))) return dir;
  await mkdir(view, { recursive: true });
  const kept = names.filter((name) => !NODE_PROGRAMS.has(name));
  for (let at = 0; at < kept.length; at += BATCH)
    await Promise.all(kept.slice(at, at + BATCH).map((name) => symlink(join(dir, name), join(view, name))));
  return view;
}
