/**
 * Reading a manifest: the root file and its `include:` files, each parsed into a located tree and checked
 * against the schema, then merged into one tree whose nodes still point into the file they came from.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Diagnostic, DiagnosticLocation } from "./diagnostic.js";
import { validateStructure } from "./schema-errors.js";
import { entry, type MapEntry, type MapNode, parseYamlTree, type TreeNode } from "./yaml-tree.js";

/** Sections an included file contributes; keyed sections must not repeat a key. */
const MERGED_SECTIONS = ["files", "jobs", "applications", "models"] as const;

export interface LoadedTree {
  /** The merged tree; undefined when a file could not be read or parsed as YAML (schema errors still give a tree). */
  root?: MapNode;
  /** Absolute path of the root manifest. */
  file: string;
  /** Lines of every file read, by display path (for caret display of later diagnostics). */
  sources: Map<string, readonly string[]>;
  /** Directory of the file each top-level section entry came from (to resolve `files[].from`). */
  dirOf: (loc: DiagnosticLocation) => string;
  diagnostics: Diagnostic[];
}

export async function loadTree(file: string, cwd: string): Promise<LoadedTree> {
  const absolute = path.resolve(cwd, file);
  const display = (p: string) => {
    const rel = path.relative(cwd, p);
    return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
  };
  const sources = new Map<string, readonly string[]>();
  const dirs = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  let broken = false;

  const readTree = async (
    abs: string,
    kind: "root" | "include",
    from?: { loc: DiagnosticLocation; source: string },
  ) => {
    const shown = display(abs);
    dirs.set(shown, path.dirname(abs));
    let text: string;
    try {
      text = await readFile(abs, "utf8");
    } catch (error) {
      const reason =
        errorCode(error) === "ENOENT"
          ? "no such file"
          : errorCode(error) === "EISDIR"
            ? "is a directory"
            : "cannot be read";
      diagnostics.push({
        severity: "error",
        message: `cannot read ${kind === "root" ? "manifest" : "included file"} ${shown}: ${reason}`,
        ...(from ? { location: from.loc, source: from.source, path: "include" } : {}),
      });
      broken = true;
      return undefined;
    }
    const parsed = parseYamlTree(text, shown);
    sources.set(shown, parsed.lines);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.root || parsed.diagnostics.length > 0) {
      broken = true;
      return undefined;
    }
    if (parsed.root.kind === "scalar" && parsed.root.value === null) {
      diagnostics.push({
        severity: "error",
        message: `${shown} is empty`,
        location: parsed.root.loc,
        hint: kind === "root" ? "a manifest needs at least name: and project: { name: … }" : undefined,
        source: parsed.lines[0] ?? "",
      });
      broken = true;
      return undefined;
    }
    const structural = validateStructure(parsed.root, kind, parsed.lines);
    diagnostics.push(...structural);
    // A file with schema errors still yields its tree, so later checks can report their problems in the
    // same run (index.ts drops their duplicates of schema errors).
    if (parsed.root.kind !== "map") {
      broken = true;
      return undefined;
    }
    return parsed.root;
  };

  const root = await readTree(absolute, "root");
  if (root) {
    const merged: MapNode = { kind: "map", loc: root.loc, entries: root.entries.filter((e) => e.key !== "include") };
    const firstKey = new Map<string, DiagnosticLocation>();
    for (const section of ["jobs", "applications", "models"])
      for (const e of sectionEntries(root, section)) firstKey.set(`${section}.${e.key}`, e.keyLoc);
    const visiting = [absolute];
    const visitIncludes = async (node: MapNode, dir: string) => {
      const list = entry(node, "include")?.value;
      if (list?.kind !== "seq") return;
      for (const item of list.items) {
        if (item.kind !== "scalar" || typeof item.value !== "string") continue;
        const target = path.resolve(dir, item.value);
        const source = sources.get(item.loc.file)?.[item.loc.line - 1] ?? "";
        if (visiting.includes(target)) {
          diagnostics.push({
            severity: "error",
            message: `include cycle: ${[...visiting.slice(visiting.indexOf(target)), target].map(display).join(" → ")}`,
            location: item.loc,
            path: "include",
            source,
          });
          broken = true;
          continue;
        }
        const included = await readTree(target, "include", { loc: item.loc, source });
        if (!included) continue;
        for (const section of MERGED_SECTIONS) {
          const incoming = entry(included, section);
          if (!incoming) continue;
          mergeSection(merged, section, incoming, firstKey, diagnostics, sources);
        }
        visiting.push(target);
        await visitIncludes(included, path.dirname(target));
        visiting.pop();
      }
    };
    await visitIncludes(root, path.dirname(absolute));
    if (!broken) return { root: merged, file: absolute, sources, dirOf: dirOfFactory(dirs, absolute), diagnostics };
  }
  return { file: absolute, sources, dirOf: dirOfFactory(dirs, absolute), diagnostics };
}

function dirOfFactory(dirs: Map<string, string>, absolute: string) {
  return (loc: DiagnosticLocation) => dirs.get(loc.file) ?? path.dirname(absolute);
}

function sectionEntries(node: MapNode, section: string): MapEntry[] {
  const value = entry(node, section)?.value;
  return value?.kind === "map" ? value.entries : [];
}

function mergeSection(
  merged: MapNode,
  section: string,
  incoming: MapEntry,
  firstKey: Map<string, DiagnosticLocation>,
  diagnostics: Diagnostic[],
  sources: Map<string, readonly string[]>,
): void {
  const value = incoming.value;
  if (value.kind === "scalar") return; // an empty section
  const existing = entry(merged, section);
  if (!existing || (existing.value.kind === "scalar" && existing.value.value === null)) {
    const copy: TreeNode =
      value.kind === "map" ? { ...value, entries: [...value.entries] } : { ...value, items: [...value.items] };
    if (existing) existing.value = copy;
    else merged.entries.push({ key: section, keyLoc: incoming.keyLoc, value: copy });
    if (value.kind === "map") for (const e of value.entries) firstKey.set(`${section}.${e.key}`, e.keyLoc);
    return;
  }
  const target = existing.value;
  if (target.kind === "seq" && value.kind === "seq") {
    target.items.push(...value.items);
    return;
  }
  if (target.kind === "map" && value.kind === "map") {
    for (const e of value.entries) {
      const first = firstKey.get(`${section}.${e.key}`);
      if (first) {
        diagnostics.push({
          severity: "error",
          message: `${section}.${e.key} is declared twice`,
          location: e.keyLoc,
          path: `${section}.${e.key}`,
          hint: `first declared at ${first.file}:${first.line}:${first.col}`,
          source: sources.get(e.keyLoc.file)?.[e.keyLoc.line - 1] ?? "",
        });
        continue;
      }
      firstKey.set(`${section}.${e.key}`, e.keyLoc);
      target.entries.push(e);
    }
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}
