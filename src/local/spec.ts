/**
 * The converted CML v2 spec (openapi/openapi.json) as the platform's routing table and validator: every
 * operation in the spec gets a route (implemented or 501), and request/response bodies are checked with ajv
 * against the same schemas the client's types are generated from.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { isJsonObject, shapeOf } from "../shared/json-shape.js";

// ajv-formats is CommonJS: under NodeNext its default import is the module object, whose `default` is the function.
const addFormats = addFormatsModule.default;

export interface Route {
  method: string;
  /** The spec's path template, e.g. `/api/v2/projects/{project_id}/jobs/{job.id}`. */
  template: string;
  operationId: string;
  regex: RegExp;
  params: readonly string[];
  /** JSON request body schema ref, when the operation has one. */
  requestSchema: string | undefined;
  /** JSON 200 response schema ref, when declared. */
  responseSchema: string | undefined;
  /** JSON schema ref of any other status (the spec's `default`: `runtimeError`), when declared. */
  errorSchema?: string | undefined;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

const SPEC_URL = new URL("../../openapi/openapi.json", import.meta.url);
const SPEC_ID = "cml-openapi";

let loaded: { routes: Route[]; ajv: Ajv } | undefined;

/** The parts of openapi/openapi.json the router reads: operations under `paths`, and their JSON schema refs. */
const isSpecDocument = shapeOf<{ paths: Record<string, unknown> }>({
  type: "object",
  required: ["paths"],
  properties: { paths: { type: "object" } },
});
const isOperation = shapeOf<{ operationId: string; requestBody?: unknown; responses?: unknown }>({
  type: "object",
  required: ["operationId"],
  properties: { operationId: { type: "string" } },
});
const hasJsonSchemaRef = shapeOf<{ content: { "application/json": { schema: { $ref: string } } } }>({
  type: "object",
  required: ["content"],
  properties: {
    content: {
      type: "object",
      required: ["application/json"],
      properties: {
        "application/json": {
          type: "object",
          required: ["schema"],
          properties: { schema: { type: "object", required: ["$ref"], properties: { $ref: { type: "string" } } } },
        },
      },
    },
  },
});

function load(): { routes: Route[]; ajv: Ajv } {
  if (loaded) return loaded;
  const doc: unknown = JSON.parse(readFileSync(SPEC_URL, "utf8"));
  if (!isSpecDocument(doc)) throw new Error(`bug: ${SPEC_URL.pathname} is not an OpenAPI document`);
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // The spec's proto annotations that are not JSON Schema formats: `boolean` on booleans (the type says it all)
  // and `uint64` on strings (64-bit integers travel as decimal strings, like int64).
  ajv.addFormat("boolean", true);
  ajv.addFormat("uint64", { type: "string", validate: /^\d+$/ });
  ajv.addSchema({ ...doc, $id: SPEC_ID });
  const routes: Route[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    if (!isJsonObject(item)) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!isOperation(op)) continue;
      routes.push(compileRoute(method.toUpperCase(), template, op.operationId, jsonSchemaRef(op)));
    }
  }
  loaded = { routes: sortRoutes(routes), ajv };
  return loaded;
}

function jsonSchemaRef(op: { requestBody?: unknown; responses?: unknown }): {
  request?: string;
  response?: string;
  error?: string;
} {
  const refOf = (holder: unknown): string | undefined =>
    hasJsonSchemaRef(holder) ? holder.content["application/json"].schema.$ref : undefined;
  const responses = isJsonObject(op.responses) ? op.responses : {};
  return { request: refOf(op.requestBody), response: refOf(responses["200"]), error: refOf(responses.default) };
}

export function compileRoute(
  method: string,
  template: string,
  operationId: string,
  schemas: { request?: string; response?: string; error?: string } = {},
): Route {
  const params: string[] = [];
  let pattern = "^";
  for (const part of template.split(/(\{[^}]+\})/)) {
    if (part.startsWith("{") && part.endsWith("}")) {
      const name = part.slice(1, -1);
      params.push(name);
      // A project file path may contain slashes, raw or percent-encoded.
      pattern += name === "path" ? "(.+?)" : "([^/]+?)";
    } else {
      pattern += part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }
  }
  return {
    method,
    template,
    operationId,
    regex: new RegExp(`${pattern}$`),
    params,
    requestSchema: schemas.request,
    responseSchema: schemas.response,
    errorSchema: schemas.error,
  };
}

/** Literal paths win over templated ones (`/projects/batch` before `/projects/{project_id}`). */
function sortRoutes(routes: Route[]): Route[] {
  const literalLength = (r: Route) => r.template.replace(/\{[^}]+\}/g, "").length;
  return routes.sort((a, b) => literalLength(b) - literalLength(a) || a.params.length - b.params.length);
}

export function specRoutes(): readonly Route[] {
  return load().routes;
}

export function matchRoute(routes: readonly Route[], method: string, pathname: string): RouteMatch | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const found = route.regex.exec(pathname);
    if (!found) continue;
    const params: Record<string, string> = {};
    let ok = true;
    route.params.forEach((name, index) => {
      try {
        params[name] = decodeURIComponent(found[index + 1] ?? "");
      } catch {
        ok = false;
      }
    });
    if (ok) return { route, params };
  }
  return undefined;
}

/** The spec operation a request is for (tests use it to validate responses). */
export function matchOperation(method: string, pathname: string): RouteMatch | undefined {
  return matchRoute(specRoutes(), method.toUpperCase(), pathname);
}

const validators = new Map<string, ValidateFunction>();

function validatorFor(ref: string): ValidateFunction {
  let validate = validators.get(ref);
  if (!validate) {
    const { ajv } = load();
    validate = ajv.compile({ $ref: `${SPEC_ID}${ref}` });
    validators.set(ref, validate);
  }
  return validate;
}

/** Problems with a body against a schema ref, each as `field.path: message`; empty when valid. */
export function schemaProblems(ref: string, value: unknown, root = "body"): string[] {
  const validate = validatorFor(ref);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => describe(error, root));
}

function describe(error: ErrorObject, root: string): string {
  const path = error.instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
  const field = [root, ...path].join(".");
  const allowed =
    error.keyword === "enum" && isRecord(error.params) && Array.isArray(error.params.allowedValues)
      ? ` (${error.params.allowedValues.join(", ")})`
      : "";
  return `${field}: ${error.message ?? "is invalid"}${allowed}`;
}

/**
 * Problems with a JSON response body of an operation: a 200 against the operation's schema, any other status
 * against its `default` (error) schema. Empty when it conforms or the spec declares no JSON schema for it.
 */
export function responseProblems(operationId: string, body: unknown, status = 200): string[] {
  const route = specRoutes().find((r) => r.operationId === operationId);
  const ref = status === 200 ? route?.responseSchema : route?.errorSchema;
  if (!ref) return [];
  return schemaProblems(ref, body, "response");
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
