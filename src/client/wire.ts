/**
 * Helpers where the wire format is awkward; callers still see the generated types.
 */
import { isJsonObject, parseShaped } from "../shared/json-shape.js";
import type { components } from "./schema.gen.js";

/**
 * `environment` is a map on Create* requests but a JSON-encoded string on every response and PATCH body
 * (openapi/FACTS.md §4 "Type asymmetries"). Sorted keys make the string stable, so equal maps compare equal.
 */
export function envToWire(env: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b))));
}

/** Parses the JSON-string `environment` of a response; `""`, absent or malformed → `{}`; non-string values stringified. */
export function envFromWire(wire: string | undefined | null): Record<string, string> {
  const parsed = wire ? parseShaped(wire, isJsonObject) : undefined;
  if (!parsed) return {};
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

export interface RuntimePair {
  runtime_identifier: string;
  runtime_addon_identifiers: string[];
}

/**
 * PATCH must send the runtime and its add-ons together: add-ons alone → 500, runtime alone → add-ons silently
 * reset to defaults (openapi/FACTS.md §6, verified live by cai-connector).
 */
export function runtimePair(identifier: string, addons: readonly string[] = []): RuntimePair {
  return { runtime_identifier: identifier, runtime_addon_identifiers: [...addons] };
}

export type Schemas = components["schemas"];
