import type { ResourceKey } from "../manifest/model.js";

/** `jobs.scrape` → `scrape`; `models.answerer.build` → `answerer`. */
export function nameOf(key: ResourceKey): string {
  const parts = key.split(".");
  return parts[0] === "models" && parts.length > 2 ? parts.slice(1, -1).join(".") : parts.slice(1).join(".");
}

export function requireSpec<T>(specs: Readonly<Record<string, T>>, key: ResourceKey): T {
  const spec = specs[nameOf(key)];
  if (!spec) throw new Error(`bug: ${key} is not in the manifest`);
  return spec;
}

export function requireId(id: string | undefined, what: string): string {
  if (!id) throw new Error(`the API returned ${what} without an id`);
  return id;
}
