/**
 * The field reference in docs/manifest.md, rendered from schema.ts so the documentation cannot drift from what
 * the validator accepts. `npm run gen:schema` rewrites the block between the markers; a test checks it.
 * It is a list rather than a table because the repository's markdown formatter pads tables, which a generator
 * would have to imitate exactly.
 */
import { UserError } from "../../shared/errors.js";
import { type JsonSchema, manifestSchema, WHOLE_REFERENCE } from "./schema.js";

export const DOCS_BEGIN = "<!-- BEGIN GENERATED FIELD REFERENCE (npm run gen:schema) -->";
export const DOCS_END = "<!-- END GENERATED FIELD REFERENCE -->";

interface Section {
  title: string;
  description: string;
  rows: string[];
}

export function renderFieldReference(schema: JsonSchema = manifestSchema): string {
  const definitions = schema.definitions ?? {};
  const sections: Section[] = [];
  const deref = (s: JsonSchema): JsonSchema => {
    const name = s.$ref?.replace("#/definitions/", "");
    const target = name ? definitions[name] : undefined;
    return target ? { ...target, ...(s.description ? { description: s.description } : {}) } : s;
  };

  const visit = (title: string, description: string, s: JsonSchema) => {
    const section: Section = { title, description, rows: [] };
    sections.push(section);
    const required = new Set(s.required ?? []);
    for (const [key, raw] of Object.entries(s.properties ?? {})) {
      const field = deref(raw);
      const facts = [
        typeName(field, raw),
        required.has(key) ? "required" : "",
        field.default !== undefined ? `default \`${JSON.stringify(field.default)}\`` : "",
      ].filter(Boolean);
      section.rows.push(`- \`${key}\` (${facts.join(", ")}): ${oneLine(field.description ?? "")}`);
      const nested = nestedObject(field);
      const childTitle = `${title === "(top level)" ? "" : `${title}.`}${key}`;
      if (nested && !raw.$ref) visit(`${childTitle}${nested.suffix}`, field.description ?? "", nested.schema);
    }
  };
  visit("(top level)", schema.description ?? "", schema);
  for (const [name, def] of Object.entries(definitions)) {
    if (def.type === "object" && def.properties) visit(name, def.description ?? "", def);
    else sections.push({ title: name, description: `${def.description ?? ""} Type: ${typeName(def, def)}.`, rows: [] });
  }

  const out: string[] = [];
  for (const s of sections) {
    out.push(`### \`${s.title}\``, "", oneLine(s.description), "");
    if (s.rows.length) out.push(...s.rows, "");
  }
  return out.join("\n");
}

/** The object to document under a field: itself, a keyed map's values (`.<key>`), or a list's items (`[]`). */
function nestedObject(s: JsonSchema): { schema: JsonSchema; suffix: string } | undefined {
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes("object") && s.properties) return { schema: s, suffix: "" };
  if (types.includes("object") && typeof s.additionalProperties === "object" && s.additionalProperties.properties)
    return { schema: s.additionalProperties, suffix: ".<key>" };
  if (types.includes("array") && s.items?.properties) return { schema: s.items, suffix: "[]" };
  return undefined;
}

function typeName(s: JsonSchema, raw: JsonSchema): string {
  const ref = raw.$ref?.replace("#/definitions/", "");
  if (ref) return `[${ref}](#${ref})`;
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(" or ");
  const types = (Array.isArray(s.type) ? s.type : s.type ? [s.type] : []).filter((t) => t !== "null");
  if (s.pattern === WHOLE_REFERENCE) {
    const base = types.find((t) => t !== "string") ?? "string";
    return `${base === "integer" ? "whole number" : base} or \`\${…}\``;
  }
  if (types.includes("object") && typeof s.additionalProperties === "object") {
    const value = s.additionalProperties;
    return `map of ${value.properties ? "mappings" : typeName(value, value)}`;
  }
  if (types.includes("array"))
    return `list of ${s.items?.properties ? "mappings" : s.items ? typeName(s.items, s.items) : "values"}`;
  if (types.includes("object")) return "mapping";
  return types.map((t) => (t === "string" ? "text" : t)).join(" or ");
}

function oneLine(s: string): string {
  return s.replaceAll("\n", " ");
}

/** Replaces the generated block in a markdown document (which must contain both markers). */
export function replaceGeneratedBlock(markdown: string, generated: string): string {
  const start = markdown.indexOf(DOCS_BEGIN);
  const end = markdown.indexOf(DOCS_END);
  if (start < 0 || end < start) throw new UserError(`the document lacks the markers ${DOCS_BEGIN} … ${DOCS_END}`);
  return `${markdown.slice(0, start + DOCS_BEGIN.length)}\n\n${generated}\n${markdown.slice(end)}`;
}
