/**
 * Manifests: `loadManifest` reads a manifest (and its includes), validates it, and resolves it into the
 * ResolvedManifest the engine consumes; every problem is a located Diagnostic, collected, never thrown.
 */
import { UserError } from "../../shared/errors.js";
import { checkManifest } from "./checks.js";
import { type Diagnostic, formatDiagnostics, hasErrors } from "./diagnostic.js";
import { loadTree } from "./load.js";
import type { ResolvedManifest } from "./model.js";
import { Resolver } from "./resolve.js";
import type { TreeNode } from "./yaml-tree.js";

export type { Diagnostic, DiagnosticFormat, DiagnosticLocation, Severity } from "./diagnostic.js";
export { formatDiagnostics, hasErrors, sortDiagnostics } from "./diagnostic.js";
export * from "./model.js";
export { includeSchema, manifestSchema, schemaFiles } from "./schema.js";

export interface LoadOptions {
  /** Target name (`--target`); default: the target marked `default: true`, or the only one. */
  target?: string;
  /** `--var name=value` values. */
  vars?: Record<string, string>;
  /** For `${env:X}`, `${secret:X}` (X or the file named by X_FILE) and `CML_LAB_VAR_<name>`. */
  env: NodeJS.ProcessEnv;
  /** Relative manifest paths resolve against it; diagnostics show paths relative to it. */
  cwd: string;
  /**
   * "warn" lets `deploy validate` check a manifest where secrets are not available (a pull-request CI job):
   * a missing secret is a warning and its SecretValue is empty. Default "error": plan and apply need the values.
   */
  missingSecrets?: "error" | "warn";
}

export interface LoadResult {
  /** Present only when there are no errors (warnings may remain). */
  manifest?: ResolvedManifest;
  diagnostics: Diagnostic[];
}

export async function loadManifest(file: string, opts: LoadOptions): Promise<LoadResult> {
  const tree = await loadTree(file, opts.cwd);
  if (!tree.root) return { diagnostics: tree.diagnostics };
  const resolver = new Resolver(tree.root, tree.sources, tree.dirOf, opts);
  const resolved = resolver.resolve();
  const later = [...resolver.diagnostics];
  const reported = tree.diagnostics.flatMap((d) => (d.path ? [d.path] : []));
  const checkScripts = !reported.some((p) => isAtOrUnder(p, "files") || isAtOrUnder(p, "project"));
  if (resolved) later.push(...checkManifest(resolved, tree.root, tree.sources, { cwd: opts.cwd, checkScripts }));
  // After schema errors, the resolver and checks run on what is there. A problem at or under a path the schema
  // already reported, or on the mapping that holds an unknown key (a misspelled key looks like a missing one),
  // is the same mistake seen twice.
  const unknownKeyParents = tree.diagnostics.flatMap((d) =>
    d.path && d.message.startsWith("unknown key") ? [parentPath(d.path)] : [],
  );
  const fresh = later.filter(
    (d) => !d.path || (!reported.some((p) => isAtOrUnder(d.path ?? "", p)) && !unknownKeyParents.includes(d.path)),
  );
  const diagnostics = [...tree.diagnostics, ...fresh];
  if (!resolved || hasErrors(diagnostics)) return { diagnostics };
  const { existingPaths: _existing, references: _references, ...rest } = resolved;
  return { manifest: { ...rest, file: tree.file }, diagnostics };
}

function isAtOrUnder(p: string, parent: string): boolean {
  return p === parent || p.startsWith(`${parent}.`) || p.startsWith(`${parent}[`);
}

/** `jobs.a.scirpt` → `jobs.a`; `files[0]` → `files`. */
function parentPath(p: string): string {
  return p.replace(/(\.[^.[\]]+|\[[^\]]*\])$/, "");
}

/**
 * Names of the environment variables a manifest (and its includes) sets from `${secret:…}`, anywhere an `env:`
 * mapping appears. Reads only the YAML, so no secret needs to be set; a manifest that cannot be read throws.
 */
export async function manifestSecretKeys(file: string, cwd: string): Promise<Set<string>> {
  const tree = await loadTree(file, cwd);
  if (!tree.root) {
    const text = formatDiagnostics(tree.diagnostics, "text", { color: false });
    throw new UserError(`${file} is not a readable manifest`, { notes: text ? [text.trimEnd()] : [] });
  }
  const keys = new Set<string>();
  const visit = (node: TreeNode, underEnv: boolean): void => {
    if (node.kind === "seq") for (const item of node.items) visit(item, false);
    if (node.kind !== "map") return;
    for (const e of node.entries) {
      if (underEnv && e.value.kind === "scalar" && typeof e.value.value === "string") {
        if (/^\$\{secret:[A-Za-z_][A-Za-z0-9_]*\??\}$/.test(e.value.value)) keys.add(e.key);
      } else visit(e.value, e.key === "env");
    }
  };
  visit(tree.root, false);
  return keys;
}
