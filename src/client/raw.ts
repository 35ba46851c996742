/**
 * An untyped escape hatch for operators (`deploy api GET /projects`, like `gh api`): any path, through the
 * same auth, retries, timeouts and ApiError as typed calls. Product code uses the typed client instead.
 */
import { type CmlClient, noResponseError, rawTransportOf, recordMeta } from "./client.js";
import { apiErrorFrom } from "./unwrap.js";

export interface RawRequest {
  method: string;
  /** `/projects`, `/api/v2/projects` or `api/v2/projects?x=1`. */
  path: string;
  query?: Readonly<Record<string, string>>;
  body?: unknown;
  signal?: AbortSignal;
}

export async function rawRequest(api: CmlClient, request: RawRequest): Promise<unknown> {
  const transport = rawTransportOf(api);
  const method = request.method.toUpperCase();
  const path = apiPath(request.path);
  const url = new URL(`${transport.baseUrl}${path}`);
  for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v);
  const headers = new Headers(transport.headers);
  if (request.body !== undefined) headers.set("Content-Type", "application/json");
  let response: Response;
  try {
    response = await transport.send(
      new Request(url, {
        method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: request.signal,
      }),
    );
  } catch (error) {
    throw noResponseError(method, url.pathname, error);
  }
  recordMeta(response, { method, schemaPath: url.pathname });
  const text = await response.text();
  const body = parseMaybeJson(text);
  if (!response.ok) throw apiErrorFrom(response, body);
  return body;
}

export function apiPath(path: string): string {
  const withSlash = path.startsWith("/") ? path : `/${path}`;
  return withSlash.startsWith("/api/") ? withSlash : `/api/v2${withSlash}`;
}

function parseMaybeJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
