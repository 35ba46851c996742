// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the manifest syntax itself is ${…}, written in plain strings.
/**
 * Structural validation: ajv checks a file's tree against schema.ts (all errors, not the first), and each ajv
 * error becomes a located diagnostic that names the expected type, with "did you mean" for misspelled keys.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { Diagnostic, DiagnosticLocation } from "./diagnostic.js";
import { includeSchema, type JsonSchema, manifestSchema, WHOLE_REFERENCE } from "./schema.js";
import { didYouMean } from "./suggest.js";
import { locate, type TreeNode, toPlain } from "./yaml-tree.js";

let compiled: { root: ValidateFunction; include: ValidateFunction } | undefined;

function validators(): { root: ValidateFunction; include: ValidateFunction } {
  if (!compiled) {
    // allowUnionTypes: number fields are [number, string] so they accept a whole `${…}` reference.
    // logger false: a library never writes to the console.
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, logger: false });
    compiled = { root: ajv.compile(manifestSchema), include: ajv.compile(includeSchema) };
  }
  return compiled;
}

/** Validates one file's tree; `lines` supply the source line for each diagnostic. */
export function validateStructure(root: TreeNode, kind: "root" | "include", lines: readonly string[]): Diagnostic[] {
  const validate = validators()[kind];
  if (validate(toPlain(root))) return [];
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const error of validate.errors ?? []) {
    const diagnostic = toDiagnostic(error, root, lines);
    if (!diagnostic) continue;
    const id = `${diagnostic.path}\u0000${diagnostic.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(diagnostic);
  }
  return out;
}

function segmentsOf(instancePath: string): string[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** `jobs.scrape.cpu`, `files[0].from`; keys that are not identifiers are quoted. */
export function pathString(segments: readonly (string | number)[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number" || /^\d+$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z0-9_$-]+$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

function toDiagnostic(error: ErrorObject, root: TreeNode, lines: readonly string[]): Diagnostic | undefined {
  // Errors inside propertyNames repeat what the propertyNames error says, with a misleading path.
  if (error.propertyName !== undefined) return undefined;
  const segments = segmentsOf(error.instancePath);
  const path = pathString(segments);
  const found = locate(root, segments);
  const parent = isSchema(error.parentSchema) ? error.parentSchema : {};
  const params: Record<string, unknown> = error.params;
  const subject = path || "the manifest";
  const make = (message: string, loc: DiagnosticLocation, hint?: string, at = path): Diagnostic => ({
    severity: "error",
    message,
    location: loc,
    ...(at ? { path: at } : {}),
    ...(hint ? { hint } : {}),
    source: lines[loc.line - 1] ?? "",
  });
  const nodeLoc = found.node.loc;
  // For a whole mapping, point at its key rather than at its first child.
  const holderLoc = found.entry?.keyLoc ?? nodeLoc;

  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const keyEntry = found.node.kind === "map" ? found.node.entries.find((e) => e.key === key) : undefined;
      const allowed = Object.keys(parent.properties ?? {});
      const hint = didYouMean(key, allowed) ?? (allowed.length ? `allowed keys: ${allowed.join(", ")}` : undefined);
      return make(
        `unknown key "${key}" ${path ? `in ${path}` : "at the top level"}`,
        keyEntry?.keyLoc ?? holderLoc,
        hint,
        pathString([...segments, key]),
      );
    }
    case "required":
      // The path names what is missing, so later checks on the rest of the mapping still report.
      return make(
        `${subject} is missing the required key "${String(params.missingProperty)}"`,
        holderLoc,
        undefined,
        pathString([...segments, String(params.missingProperty)]),
      );
    case "type":
      return make(`${subject} must be ${expected(parent)}, got ${describe(error.data)}`, nodeLoc);
    case "pattern":
      if (parent.pattern === WHOLE_REFERENCE)
        return make(
          `${subject} must be ${expected(parent)}, got ${describe(error.data)}`,
          nodeLoc,
          "a text value is allowed here only as one whole reference, such as ${var.name}",
        );
      return make(`${subject} must match ${String(params.pattern)}, got ${describe(error.data)}`, nodeLoc);
    case "propertyNames": {
      const name = String(params.propertyName);
      const keyEntry = found.node.kind === "map" ? found.node.entries.find((e) => e.key === name) : undefined;
      const pattern = parent.propertyNames?.pattern ?? "";
      return make(
        `"${name}" is not a valid key in ${subject}`,
        keyEntry?.keyLoc ?? holderLoc,
        pattern.startsWith("^[A-Za-z_]")
          ? "use letters, digits and _ (not starting with a digit)"
          : "use letters, digits, - and _ (no dots or spaces)",
        pathString([...segments, name]),
      );
    }
    case "enum": {
      const allowed = (parent.enum ?? []).map(String);
      const got = describe(error.data);
      return make(
        `${subject} must be one of ${allowed.join(", ")}; got ${got}`,
        nodeLoc,
        typeof error.data === "string" ? didYouMean(error.data, allowed) : undefined,
      );
    }
    case "minimum":
    case "maximum":
      return make(
        `${subject} must be ${error.keyword === "minimum" ? ">=" : "<="} ${String(params.limit)}, got ${describe(error.data)}`,
        nodeLoc,
      );
    default:
      return make(`${subject} ${error.message ?? "is invalid"}`, nodeLoc);
  }
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Names the expected type the way a manifest author thinks of it. */
function expected(schema: JsonSchema): string {
  const types = (Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []).filter(
    (t) => t !== "null",
  );
  const reference = schema.pattern === WHOLE_REFERENCE;
  if (reference) {
    const base = types.find((t) => t !== "string");
    const name = base === "integer" ? "a whole number" : base === "boolean" ? "true or false" : "a number";
    return name;
  }
  const names = types.map((t) =>
    t === "object"
      ? "a mapping (key: value)"
      : t === "array"
        ? "a list"
        : t === "string"
          ? "text"
          : t === "integer"
            ? "a whole number"
            : t === "boolean"
              ? "true or false"
              : "a number",
  );
  return names.length === 0
    ? "a value"
    : names.length === 1
      ? (names[0] ?? "")
      : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

/** What the author wrote, briefly, without echoing long values. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing (an empty value)";
  if (typeof value === "string")
    return `text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "a list";
  return "a mapping";
}
