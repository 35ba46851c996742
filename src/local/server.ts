/**
 * The API server's request path: faults (tests only) → Bearer auth → route from the spec → JSON body parsed
 * and validated against the operation's schema → handler → CML-shaped errors. Operations the spec has and
 * the platform does not implement answer 501 with their operationId, so a gap is never silent.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { errorForLog, errorMessage } from "../shared/errors.js";
import type { PlatformContext } from "./context.js";
import { errorResponse, HttpError } from "./errors.js";
import type { Faults } from "./faults.js";
import { nulFields, printable } from "./process-values.js";
import { matchRoute, type Route, schemaProblems, specRoutes } from "./spec.js";

export interface Call {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  request: Request;
}

/** A handler returns the JSON body of a 200, or a Response of its own. */
export type Handler = (call: Call) => unknown;
export type Handlers = Partial<Record<string, Handler>>;

export type Dispatcher = (request: Request, incoming: IncomingMessage | undefined) => Promise<Response>;

export function createDispatcher(
  ctx: PlatformContext,
  handlers: Handlers,
  extensionRoutes: readonly Route[],
  faults: Faults,
): Dispatcher {
  const routes = [...extensionRoutes, ...specRoutes()];
  return async (request, incoming) => {
    const url = new URL(request.url);
    const match = matchRoute(routes, request.method, url.pathname);
    const call = { method: request.method, path: url.pathname, operationId: match?.route.operationId };
    const latency = faults.latencyFor(call);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const fault = faults.decide(call);
    if (fault.kind === "drop" && fault.phase === "before") return drop(incoming);
    if (fault.kind === "status") return errorResponse(fault.status, fault.message, fault.headers);

    if (!authorised(request, ctx.apiKey)) {
      return errorResponse(401, "missing or invalid API key (send Authorization: Bearer <key>)");
    }
    let response: Response;
    if (!match) {
      response = errorResponse(404, `no API operation at ${request.method} ${url.pathname}`);
    } else {
      response = await handle(ctx, handlers, match.route, match.params, url, request);
    }
    if (fault.kind === "drop") return drop(incoming);
    return response;
  };
}

async function handle(
  ctx: PlatformContext,
  handlers: Handlers,
  route: Route,
  params: Record<string, string>,
  url: URL,
  request: Request,
): Promise<Response> {
  const handler = handlers[route.operationId];
  if (!handler) {
    return errorResponse(
      501,
      `operation ${route.operationId} (${route.method} ${route.template}) is not implemented by the local platform`,
    );
  }
  try {
    const nulParams = [
      ...Object.entries(params).flatMap(([name, value]) => (value.includes("\0") ? [`path.${name}`] : [])),
      ...[...url.searchParams].flatMap(([name, value]) =>
        `${name}${value}`.includes("\0") ? [`query.${printable(name)}`] : [],
      ),
    ];
    if (nulParams.length > 0) throw new HttpError(400, `invalid request: ${nulParams.join(", ")}: NUL byte`);
    let body: unknown;
    if (route.requestSchema) {
      body = await jsonBody(request);
      const problems = schemaProblems(route.requestSchema, body);
      if (problems.length > 0) throw new HttpError(400, `invalid request: ${problems.join("; ")}`);
      const nul = nulFields(body);
      if (nul.length > 0) {
        throw new HttpError(400, `invalid request: ${nul.join(", ")}: contains a NUL byte, which no field can hold`);
      }
    }
    const result = await handler({ params, query: url.searchParams, body, request });
    if (request.method !== "GET") await ctx.save();
    return result instanceof Response ? result : Response.json(result ?? {});
  } catch (error) {
    if (error instanceof HttpError) return errorResponse(error.status, error.message);
    ctx.log(`internal error in ${route.operationId}: ${errorForLog(error)}`);
    return errorResponse(500, `internal error in ${route.operationId}: ${errorMessage(error)}`);
  }
}

async function jsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
}

function authorised(request: Request, apiKey: string): boolean {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(apiKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function drop(incoming: IncomingMessage | undefined): Response {
  incoming?.socket.destroy();
  return new Response(null, { status: 500 });
}
