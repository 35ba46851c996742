/**
 * `environment` normalisation. CML takes a map on create but returns (and takes on PATCH) a JSON string
 * (openapi/FACTS.md §4); the ownership marker lives in it; secrets must be comparable without being shown.
 */
import { envFromWire } from "../../client/index.js";
import { isSecretName } from "../../shared/secrets.js";
import type { PlanValue } from "../engine/types.js";
import { type EnvMap, type EnvValue, OWNER_ENV_KEY, type ResourceKey } from "../manifest/model.js";
import type { ApplyContext, FieldMap, NormaliseContext } from "./types.js";

/** Keys whose values are shown as `(secret)` even when the manifest gives them literally. */

export function isSecretKey(key: string, env: EnvMap): boolean {
  const value = env[key];
  return (typeof value === "object" && value.kind === "secret") || isSecretName(key);
}

export function desiredEnvFields(env: EnvMap, ctx: NormaliseContext, prefix = "env"): FieldMap {
  const out: FieldMap = { [`${prefix}.${OWNER_ENV_KEY}`]: ctx.stack };
  for (const [key, value] of Object.entries(env)) out[`${prefix}.${key}`] = desiredValue(key, value, env, ctx);
  return out;
}

function desiredValue(key: string, value: EnvValue, env: EnvMap, ctx: NormaliseContext): PlanValue {
  if (typeof value === "string") return isSecretKey(key, env) ? { secret: ctx.secretHash(key, value) } : value;
  if (value.kind === "secret") return { secret: ctx.secretHash(key, value.value) };
  const resolved = ctx.output(value.resource, value.field);
  if (resolved === undefined) return { knownAfterApply: `${value.resource}.${value.field}` };
  return isSecretKey(key, env) ? { secret: ctx.secretHash(key, resolved) } : resolved;
}

/**
 * Live environment as fields. `onlyKeys` limits the comparison to keys we manage: CML injects keys of its own
 * into project environments (openapi/FACTS.md §3), which must not show up as removals.
 */
export function liveEnvFields(
  wire: string | undefined,
  desired: EnvMap,
  ctx: NormaliseContext,
  options: { onlyKeys?: ReadonlySet<string>; prefix?: string } = {},
): FieldMap {
  const prefix = options.prefix ?? "env";
  const out: FieldMap = {};
  for (const [key, value] of Object.entries(envFromWire(wire))) {
    if (options.onlyKeys && !options.onlyKeys.has(key) && key !== OWNER_ENV_KEY) continue;
    out[`${prefix}.${key}`] = isSecretKey(key, desired) ? { secret: ctx.secretHash(key, value) } : value;
  }
  return out;
}

/** The stack that owns an object, from its environment; undefined = unmarked. */
export function ownerOf(wire: string | undefined): string | undefined {
  return envFromWire(wire)[OWNER_ENV_KEY];
}

/** The environment to send: values resolved (secrets included: request bodies only), marker added. */
export function resolveEnv(env: EnvMap, ctx: ApplyContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === "string") out[key] = value;
    else if (value.kind === "secret") out[key] = value.value;
    else {
      const resolved = ctx.outputs.get(value.resource)?.[value.field];
      if (resolved === undefined)
        throw new Error(`${value.resource}.${value.field} is not known (is ${value.resource} in the manifest?)`);
      out[key] = resolved;
    }
  }
  out[OWNER_ENV_KEY] = ctx.stack;
  return out;
}

/** Resource keys an environment refers to (graph edges). */
export function envRefs(env: EnvMap): string[] {
  return Object.values(env).flatMap((v) => (typeof v === "object" && v.kind === "ref" ? [v.resource] : []));
}

/** The resources an environment refers to, as plan dependencies. */
export function envDeps(env: EnvMap): ResourceKey[] {
  return envRefs(env).filter((k): k is ResourceKey => k === "project" || /^(files|jobs|applications|models)\./.test(k));
}
