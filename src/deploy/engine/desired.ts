/**
 * The desired state: the resolved manifest plus what must be looked up before planning (runtime identifiers,
 * content hashes of the files to sync and of each model's source). Gathering it does I/O; `plan` itself is pure.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, posix, relative, sep } from "node:path";
import { type CmlClient, chooseRuntime, listAll, type Schemas } from "../../client/index.js";
import { UserError } from "../../shared/errors.js";
import type { FileSyncSpec, ResolvedManifest, RuntimeChoice } from "../manifest/model.js";

export interface ResolvedRuntime {
  identifier: string;
  /** Undefined = the manifest names none, so whatever add-ons CML defaults to are fine. */
  addons?: readonly string[];
}

export interface DesiredFile {
  /** Project-relative path. */
  path: string;
  localPath: string;
  /** `sha256:<hex>` of the content. */
  hash: string;
}

export interface DesiredFileSet {
  spec: FileSyncSpec;
  files: ReadonlyMap<string, DesiredFile>;
}

export interface DesiredState {
  manifest: ResolvedManifest;
  runtimes: ReadonlyMap<string, ResolvedRuntime>;
  /** Keyed by the spec's `to`. */
  files: ReadonlyMap<string, DesiredFileSet>;
  /** Model key → hash of the model's source file (from the synced files when it is one of them). */
  modelSources: ReadonlyMap<string, string>;
}

export function runtimeKey(choice: RuntimeChoice): string {
  return "identifier" in choice
    ? `id:${choice.identifier}`
    : `${choice.editor}|${choice.kernel}|${choice.edition}|${choice.version ?? ""}`;
}

/** Resolves every runtime the manifest names with one listing, hashes the files to sync. */
export async function gatherDesired(manifest: ResolvedManifest, api: CmlClient | undefined): Promise<DesiredState> {
  const choices = [
    ...Object.values(manifest.jobs).map((j) => j.runtime),
    ...Object.values(manifest.applications).map((a) => a.runtime),
    ...Object.values(manifest.models).map((m) => m.runtime),
  ];
  const runtimes = new Map<string, ResolvedRuntime>();
  let catalogue: Schemas["Runtime"][] | undefined;
  for (const choice of choices) {
    const key = runtimeKey(choice);
    if (runtimes.has(key)) continue;
    if ("identifier" in choice) {
      runtimes.set(key, { identifier: choice.identifier, addons: choice.addons });
      continue;
    }
    if (!api) throw new Error("bug: resolving a runtime by name needs an API client");
    catalogue ??= await listAll(
      (page_token) => api.GET("/api/v2/runtimes", { params: { query: { page_size: 100, page_token } } }),
      (page) => page.runtimes,
    );
    const runtime = chooseRuntime(catalogue, choice);
    runtimes.set(key, { identifier: runtime.image_identifier, addons: choice.addons });
  }
  const files = new Map<string, DesiredFileSet>();
  for (const spec of manifest.files) files.set(spec.to, { spec, files: await hashFileSet(spec) });
  const modelSources = new Map<string, string>();
  for (const [key, model] of Object.entries(manifest.models)) {
    const synced = [...files.values()].map((set) => set.files.get(model.file)).find((f) => f !== undefined);
    // A source that is not synced by this manifest is already in the project; its path is all we can hash.
    modelSources.set(key, synced?.hash ?? `path:${model.file}`);
  }
  return { manifest, runtimes, files, modelSources };
}

export function sha256(content: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(content).digest("hex")}`;
}

async function hashFileSet(spec: FileSyncSpec): Promise<Map<string, DesiredFile>> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(spec.from);
  } catch {
    throw new UserError(`files: ${spec.from} does not exist`, {
      location: `${spec.location.file}:${spec.location.line}:${spec.location.col}`,
    });
  }
  const out = new Map<string, DesiredFile>();
  const excluded = spec.exclude.map(globToRegExp);
  const add = async (localPath: string, path: string) => {
    out.set(path, { path, localPath, hash: sha256(await readFile(localPath)) });
  };
  if (!info.isDirectory()) {
    await add(spec.from, posix.normalize(spec.to));
    return out;
  }
  const entries = await readdir(spec.from, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .map((abs) => ({ abs, rel: relative(spec.from, abs).split(sep).join("/") }))
    .filter(({ rel }) => !excluded.some((re) => re.test(rel)))
    .sort((a, b) => a.rel.localeCompare(b.rel));
  for (const { abs, rel } of files) await add(abs, posix.join(spec.to, rel));
  return out;
}

/** `**` any path, `*` any name part, `?` one character; a pattern without `/` matches at any depth. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? "";
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
      if (glob[i + 1] === "/") i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(glob.includes("/") ? `^${re}$` : `(^|/)${re}(/|$)`);
}
