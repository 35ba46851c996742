/**
 * Manifests: `loadManifest` reads a manifest (and its includes), validates it, and resolves it into the
 * ResolvedManifest the engine consumes; every problem is a located Diagnostic, collected, never thrown.
 */
import { checkManifest } from "./checks.js";
import { type Diagnostic, hasErrors } from "./diagnostic.js";
import { loadTree } from "./load.js";
import type { ResolvedManifest } from "./model.js";
import { Resolver } from "./resolve.js";

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
  if (resolved) later.push(...checkManifest(resolved, tree.root, tree.sources, opts.cwd));
  // After schema errors, the resolver and checks run on what is there; a problem at or under a path the schema
  // already reported is the same mistake seen twice.
  const reported = tree.diagnostics.flatMap((d) => (d.path ? [d.path] : []));
  const fresh = later.filter((d) => !d.path || !reported.some((p) => isAtOrUnder(d.path ?? "", p)));
  const diagnostics = [...tree.diagnostics, ...fresh];
  if (!resolved || hasErrors(diagnostics)) return { diagnostics };
  const { existingPaths: _existing, references: _references, ...rest } = resolved;
  return { manifest: { ...rest, file: tree.file }, diagnostics };
}

function isAtOrUnder(p: string, parent: string): boolean {
  return p === parent || p.startsWith(`${parent}.`) || p.startsWith(`${parent}[`);
}
