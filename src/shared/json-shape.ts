/**
 * JSON that comes from outside the process (records other processes write, caches, API bodies we do not
 * generate types for) is checked against a JSON Schema with ajv, not by hand-written guards that drift.
 */
import { Ajv, type SchemaObject } from "ajv";

let ajv: Ajv | undefined;

export type Shape<T> = ((value: unknown) => value is T) & { describe(): string };

/**
 * A type guard for `schema`; `describe()` names what the last failed check found, for messages. The schema
 * states the fields the code reads (required, typed); others pass through, so older and newer writers agree.
 */
export function shapeOf<T>(schema: SchemaObject): Shape<T> {
  ajv ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, logger: false });
  const validate = ajv.compile(schema);
  const guard = ((value: unknown): value is T => validate(value)) as Shape<T>;
  guard.describe = () =>
    (validate.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? "is not valid"}`).join("; ");
  return guard;
}

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
