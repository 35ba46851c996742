/**
 * Reading a manifest: the root file and its `include:` files, each parsed into a located tree and checked
 * against the schema, then merged into one tree whose nodes still point into the file they came from.
 */
import { realpath } from "node:fs/promises";
import path from "node:path";
import { BoundedReadError, readBoundedFile } from "../../shared/bounded-read.js";
import type { Diagnostic, DiagnosticLocation } from "./diagnostic.js";
import { validateStructure } from "./schema-errors.js";
import { entry, type MapEntry, type MapNode, parseYamlTree, type TreeNode } from "./yaml-tree.js";

/** A manifest is a page or two of YAML; anything far larger is not one (and is not read into memory). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

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
    const what = kind === "root" ? "manifest" : "included file";
    const refuse = (reason: string, hint?: string) => {
      diagnostics.push({
        severity: "error",
        message: `cannot read ${what} ${shown}: ${reason}`,
        ...(hint ? { hint } : {}),
        ...(from ? { location: from.loc, source: from.source, path: "include" } : {}),
      });
      broken = true;
      return undefined;
    };
    let bytes: Buffer;
    try {
      bytes = readBoundedFile(abs, MAX_MANIFEST_BYTES);
    } catch (error) {
      if (!(error instanceof BoundedReadError)) throw error;
      return refuse(error.reasonText);
    }
    // Not quoted from here on: a file that is binary or not a mapping is not a manifest, and may be anything.
    const decoded = decodeManifest(bytes, shown);
    if ("problem" in decoded) {
      diagnostics.push({ severity: "error", message: decoded.problem, location: decoded.loc });
      broken = true;
      return undefined;
    }
    const text = decoded.text;
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
    if (parsed.root.kind !== "map") {
      // Not a manifest: say so without quoting it (it may be a key file someone pointed at by mistake).
      diagnostics.push({
        severity: "error",
        message: `${shown} is not a manifest: its top level must be a mapping (key: value), not ${parsed.root.kind === "seq" ? "a list" : "a single value"}`,
        location: { file: shown, line: 1, col: 1 },
      });
      sources.delete(shown);
      broken = true;
      return undefined;
    }
    // A file with schema errors still yields its tree, so later checks can report their problems in the
    // same run (index.ts drops their duplicates of schema errors).
    diagnostics.push(...validateStructure(parsed.root, kind, parsed.lines));
    return parsed.root;
  };

  const root = await readTree(absolute, "root");
  // Includes stay inside the root manifest's directory tree, checked on real paths so a symlink cannot lead out.
  const treeRoot = await realpath(path.dirname(absolute)).catch(() => path.dirname(absolute));
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
        const outside = await outsideTree(target, treeRoot);
        if (outside) {
          diagnostics.push({
            severity: "error",
            message: `include ${JSON.stringify(item.value)} ${outside}`,
            location: item.loc,
            path: "include",
            hint: `an included file is a .yaml or .yml file in ${display(path.dirname(absolute)) || "."} or below it`,
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

/** Why an include target is refused before it is opened, or undefined when it may be read. */
async function outsideTree(target: string, treeRoot: string): Promise<string | undefined> {
  if (!/\.ya?ml$/i.test(target)) return "is not a .yaml or .yml file";
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    return undefined; // a missing file is reported by the read, with its name
  }
  const rel = path.relative(treeRoot, real);
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) return "is outside the manifest's directory";
  if (!/\.ya?ml$/i.test(real)) return "is a link to a file that is not .yaml or .yml";
  return undefined;
}

/**
 * Manifest bytes → text. A NUL byte or invalid UTF-8 means the file is not a YAML manifest; the error points at
 * the first bad byte and quotes nothing.
 */
export function decodeManifest(
  bytes: Uint8Array,
  file: string,
): { text: string } | { problem: string; loc: DiagnosticLocation } {
  const at = (offset: number): DiagnosticLocation => {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset; i++)
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    // Columns count characters, not bytes: count the UTF-8 lead bytes before the offset on this line.
    let col = 1;
    for (let i = lineStart; i < offset; i++) if (((bytes[i] ?? 0) & 0xc0) !== 0x80) col++;
    return { file, line, col };
  };
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { problem: `${file} contains a NUL byte; a manifest is UTF-8 text`, loc: at(nul) };
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { problem: `${file} is not valid UTF-8 text; save it as UTF-8`, loc: at(firstInvalidUtf8(bytes)) };
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence (Unicode table 3-7). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    const [length, low, high] = utf8Lead(b);
    if (length === 0) return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? low : 0x80) || c > (k === 1 ? high : 0xbf)) return i;
    }
    i += length;
  }
  return i;
}

/** Sequence length of a lead byte and the range its second byte must be in; length 0 for a byte that cannot lead. */
function utf8Lead(b: number): [number, number, number] {
  if (b < 0x80) return [1, 0, 0];
  if (b >= 0xc2 && b <= 0xdf) return [2, 0x80, 0xbf];
  if (b === 0xe0) return [3, 0xa0, 0xbf];
  if (b === 0xed) return [3, 0x80, 0x9f];
  if (b >= 0xe1 && b <= 0xef) return [3, 0x80, 0xbf];
  if (b === 0xf0) return [4, 0x90, 0xbf];
  if (b >= 0xf1 && b <= 0xf3) return [4, 0x80, 0xbf];
  if (b === 0xf4) return [4, 0x80, 0x8f];
  return [0, 0, 0];
}
