/**
 * JSON that comes from outside the process (records other processes write, caches, API bodies we do not
 * generate types for) is checked against a JSON Schema with ajv, not by hand-written guards that drift.
 */
import { createRequire } from "node:module";
import type { Ajv, SchemaObject, ValidateFunction } from "ajv";

// ajv is loaded when the first shape is checked, not when a module that declares one is imported: loading it
// takes ~0.1 s, and the client library and most commands import shapes they may never check.
const load = createRequire(import.meta.url);
let ajv: Ajv | undefined;

export type Shape<T> = ((value: unknown) => value is T) & { describe(): string };

/**
 * A type guard for `schema`; `describe()` names what the last failed check found, for messages. The schema
 * states the fields the code reads (required, typed); others pass through, so older and newer writers agree.
 * Compiled on first use, so declaring shapes at the top of a module costs nothing until one is checked.
 */
export function shapeOf<T>(schema: SchemaObject): Shape<T> {
  let validate: ValidateFunction | undefined;
  const compiled = () => {
    ajv ??= new (load("ajv") as typeof import("ajv")).Ajv({
      allErrors: true,
      strict: true,
      allowUnionTypes: true,
      logger: false,
    });
    validate ??= ajv.compile(schema);
    return validate;
  };
  const guard = ((value: unknown): value is T => compiled()(value)) as Shape<T>;
  guard.describe = () =>
    (validate?.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? "is not valid"}`).join("; ");
  return guard;
}

/** A JSON object (not an array, not null): what most outside JSON must be before its fields are read. */
export const isJsonObject = shapeOf<Record<string, unknown>>({ type: "object" });

/** Parses `text` as JSON of `shape`; undefined when it is not JSON or not of that shape. */
export function parseShaped<T>(text: string, shape: Shape<T>): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return shape(value) ? value : undefined;
}
