/** Small request checks shared by the handlers. */
import type { Schemas } from "../../client/index.js";
import { isJsonObject } from "../../shared/json-shape.js";
import { badRequest } from "../errors.js";
import { checkEnvironment } from "../process-values.js";
import { findRuntime } from "../runtimes.js";

/**
 * PATCH bodies carry `environment` as a JSON string (openapi/FACTS.md §4); CML rejects what it cannot unmarshal.
 * The whole map is replaced, `"{}"` clears it.
 */
export function parseEnvironmentString(text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest("environment must be a JSON object encoded as a string");
  }
  if (!isJsonObject(parsed)) throw badRequest("environment must be a JSON object encoded as a string");
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed))
    env[key] = typeof value === "string" ? value : JSON.stringify(value);
  checkEnvironment("body.environment", env);
  return env;
}

/** ml_runtime projects need a registered runtime; unknown identifiers get 400, as on CML. */
export function checkRuntime(project: Schemas["Project"], identifier: string | undefined): string {
  if (!identifier) {
    if (project.default_engine_type === "legacy_engine") return "";
    throw badRequest("runtime_identifier is required in projects that use ML runtimes");
  }
  if (!findRuntime(identifier)) throw badRequest(`runtime ${identifier} is not a registered runtime`);
  return identifier;
}
