/**
 * YAML → a small located tree. Every map entry, item and scalar keeps its file:line:col (from the yaml CST
 * ranges through a LineCounter), so every later step can point at the exact spot, including after
 * `include:` merged several files. Aliases are expanded; merge keys (`<<`) are refused rather than half-supported.
 */
import { isAlias, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Diagnostic, DiagnosticLocation } from "./diagnostic.js";

export type Scalar = string | number | boolean | null;

interface NodeBase {
  loc: DiagnosticLocation;
}
export interface MapNode extends NodeBase {
  kind: "map";
  entries: MapEntry[];
}
export interface MapEntry {
  key: string;
  keyLoc: DiagnosticLocation;
  value: TreeNode;
}
export interface SeqNode extends NodeBase {
  kind: "seq";
  items: TreeNode[];
}
export interface ScalarNode extends NodeBase {
  kind: "scalar";
  value: Scalar;
}
export type TreeNode = MapNode | SeqNode | ScalarNode;

/** A parsed file: its tree (absent when the YAML itself is broken) and its lines for caret display. */
export interface ParsedFile {
  file: string;
  lines: readonly string[];
  root?: TreeNode;
  diagnostics: Diagnostic[];
}

/** Expanded aliases can multiply a small file (the "billion laughs" shape); a manifest never needs this many. */
const MAX_NODES = 200_000;
const MAX_DEPTH = 64;

export function parseYamlTree(text: string, file: string): ParsedFile {
  const lineCounter = new LineCounter();
  const lines = text.split(/\r?\n/);
  // The yaml parser recurses once per level; thousands of `[` exhaust the stack (it reports that as a parse
  // error at best). A manifest is a few levels deep, so refuse deep flow nesting before parsing.
  const deep = deepFlowNesting(text);
  if (deep !== undefined) {
    const before = text.slice(0, deep);
    const line = before.split("\n").length;
    const loc = { file, line, col: deep - before.lastIndexOf("\n") };
    return { file, lines, diagnostics: [tooDeep(loc, lines)] };
  }
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false });
  } catch (error) {
    // Deep block nesting can still exhaust the stack outside the parser's own error handling.
    if (error instanceof RangeError) return { file, lines, diagnostics: [tooDeep({ file, line: 1, col: 1 }, lines)] };
    throw error;
  }
  const diagnostics: Diagnostic[] = [];
  const at = (start: number, end?: number): DiagnosticLocation => {
    const s = lineCounter.linePos(Math.min(start, text.length));
    const loc: DiagnosticLocation = { file, line: s.line, col: s.col };
    if (end !== undefined && end > start) {
      const e = lineCounter.linePos(Math.min(end, text.length));
      loc.endLine = e.line;
      loc.endCol = e.col;
    }
    return loc;
  };
  const report = (message: string, loc: DiagnosticLocation, hint?: string, path?: string) =>
    diagnostics.push({
      severity: "error",
      message,
      location: loc,
      ...(path ? { path } : {}),
      ...(hint ? { hint } : {}),
      source: lines[loc.line - 1] ?? "",
    });

  for (const error of doc.errors) {
    if (error.message.includes("Maximum call stack size exceeded")) {
      diagnostics.push(tooDeep(at(error.pos[0]), lines));
      break;
    }
    report(`invalid YAML: ${firstLine(error.message)}`, at(error.pos[0], error.pos[1]));
  }
  if (doc.errors.length > 0) return { file, lines, diagnostics };

  let count = 0;
  const convert = (node: unknown, path: string, depth: number, fallback: DiagnosticLocation): TreeNode | undefined => {
    if (++count > MAX_NODES || depth > MAX_DEPTH) {
      if (count === MAX_NODES + 1 || depth === MAX_DEPTH + 1)
        report("the document is too large or too deeply nested (aliases expand too far)", fallback, undefined, path);
      return undefined;
    }
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) {
        report(
          `*${node.source} refers to no anchor: there is no &${node.source} before it in this file`,
          locOf(node) ?? fallback,
          `define it first (key: &${node.source} value), or write the value itself`,
          path,
        );
        return undefined;
      }
      return convert(target, path, depth + 1, locOf(node) ?? fallback);
    }
    const loc = locOf(node) ?? fallback;
    if (isMap(node)) {
      const entries: MapEntry[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key;
        const keyLoc = locOf(keyNode) ?? loc;
        if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === "object") {
          report("a key must be plain text", keyLoc, undefined, path);
          continue;
        }
        const key = String(keyNode.value);
        if (key === "<<") {
          report(
            "YAML merge keys (<<) are not supported",
            keyLoc,
            "repeat the keys, or move shared values to defaults:",
            path,
          );
          continue;
        }
        const childPath = path ? `${path}.${key}` : key;
        const value =
          pair.value === null || pair.value === undefined
            ? {
                kind: "scalar" as const,
                value: null,
                loc: { file, line: keyLoc.endLine ?? keyLoc.line, col: keyLoc.endCol ?? keyLoc.col },
              }
            : convert(pair.value, childPath, depth + 1, keyLoc);
        if (value) entries.push({ key, keyLoc, value });
      }
      return { kind: "map", entries, loc };
    }
    if (isSeq(node)) {
      const items: TreeNode[] = [];
      node.items.forEach((item, i) => {
        const child =
          item === null
            ? { kind: "scalar" as const, value: null, loc }
            : convert(item, `${path}[${i}]`, depth + 1, loc);
        if (child) items.push(child);
      });
      return { kind: "seq", items, loc };
    }
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || typeof v === "string" || typeof v === "boolean") return { kind: "scalar", value: v, loc };
      if (typeof v === "number" || typeof v === "bigint") {
        // .inf, .nan and integers beyond 2^53 have no exact JSON form; no manifest field wants them.
        if (
          typeof v === "bigint"
            ? v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)
            : !Number.isFinite(v)
        ) {
          report(
            `${node.source ?? String(v)} is not a usable number (too large, infinite or not a number)`,
            loc,
            undefined,
            path,
          );
          return undefined;
        }
        return { kind: "scalar", value: Number(v), loc };
      }
      report("unsupported YAML value (use plain text, numbers or true/false)", loc, undefined, path);
      return undefined;
    }
    report("unsupported YAML node", loc, undefined, path);
    return undefined;
  };
  function locOf(node: unknown): DiagnosticLocation | undefined {
    const range = isNode(node) ? node.range : undefined;
    return range ? at(range[0], range[1]) : undefined;
  }

  const start: DiagnosticLocation = { file, line: 1, col: 1 };
  const root = doc.contents === null ? undefined : convert(doc.contents, "", 0, start);
  return { file, lines, diagnostics, root: root ?? { kind: "scalar", value: null, loc: start } };
}

/** Flow collections nested deeper than this are refused before parsing (block nesting is bounded by MAX_DEPTH). */
const MAX_FLOW_DEPTH = 200;

/** Offset of the bracket that opens the level past MAX_FLOW_DEPTH, ignoring quoted text and comments. */
function deepFlowNesting(text: string): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (comment) {
      if (c === "\n") comment = false;
    } else if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1] ?? ""))) comment = true;
    else if (c === "[" || c === "{") {
      if (++depth > MAX_FLOW_DEPTH) return i;
    } else if ((c === "]" || c === "}") && depth > 0) depth--;
  }
  return undefined;
}

function tooDeep(loc: DiagnosticLocation, lines: readonly string[]): Diagnostic {
  return {
    severity: "error",
    message: "the document is nested too deeply for a manifest",
    location: loc,
    hint: "a manifest needs only a few levels of mappings and lists",
    source: (lines[loc.line - 1] ?? "").slice(0, 200),
  };
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}

/** Plain JS value of a tree (what the JSON Schema validator sees). */
export function toPlain(node: TreeNode): unknown {
  switch (node.kind) {
    case "scalar":
      return node.value;
    case "seq":
      return node.items.map(toPlain);
    case "map":
      return Object.fromEntries(node.entries.map((e) => [e.key, toPlain(e.value)]));
  }
}

export function entry(node: TreeNode | undefined, key: string): MapEntry | undefined {
  return node?.kind === "map" ? node.entries.find((e) => e.key === key) : undefined;
}

export function child(node: TreeNode | undefined, key: string): TreeNode | undefined {
  return entry(node, key)?.value;
}

/** Finds the node at a JSON-pointer-like segment list; returns the deepest node found and the entry for the last key. */
export function locate(
  root: TreeNode,
  segments: readonly string[],
): { node: TreeNode; entry?: MapEntry; complete: boolean } {
  let node = root;
  let last: MapEntry | undefined;
  for (const segment of segments) {
    if (node.kind === "map") {
      const e = node.entries.find((x) => x.key === segment);
      if (!e) return { node, complete: false };
      last = e;
      node = e.value;
    } else if (node.kind === "seq") {
      const item = node.items[Number(segment)];
      if (!item) return { node, complete: false };
      last = undefined;
      node = item;
    } else {
      return { node, complete: false };
    }
  }
  return last ? { node, entry: last, complete: true } : { node, complete: true };
}

/** The entries of a mapping node, or none. */
export function mapEntries(node: TreeNode | undefined): MapEntry[] {
  return node?.kind === "map" ? node.entries : [];
}

/** The value of a scalar node, or undefined for anything else. */
export function scalarValue(node: TreeNode | undefined): Scalar | undefined {
  return node?.kind === "scalar" ? node.value : undefined;
}
