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

/**
 * One name per object: a live object the manifest declares goes by its manifest key, as apply calls it
 * (`applications.chat`, not its subdomain); only objects the manifest no longer has go by their live name.
 */
export function declaredName<S>(
  specs: Readonly<Record<string, S>>,
  matchedId: (spec: S) => string | undefined,
  id: string | undefined,
): string | undefined {
  if (id === undefined) return undefined;
  return Object.entries(specs).find(([, spec]) => matchedId(spec) === id)?.[0];
}
