/**
 * createCmlClient: openapi-fetch over the generated `paths` (house style P1), plus the cross-cutting
 * parts every call needs: base-URL normalisation, Bearer auth, retries with per-attempt timeouts, and
 * the bookkeeping that lets `unwrap` name the spec path of a failed call.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import pLimit from "p-limit";
import { UserError } from "../shared/errors.js";
import { ApiError } from "./errors.js";
import { DEFAULT_RETRY, type RetryOptions, retryingFetch } from "./retry.js";
import type { paths } from "./schema.gen.js";

export type CmlClient = Client<paths>;

export interface CmlClientOptions {
  /** Workbench origin, e.g. `https://ml-1234.example.cloudera.site`; `/api/v2` and trailing slashes are accepted. */
  baseUrl: string;
  /** API v2 key (sent as `Authorization: Bearer …`; never printed). */
  apiKey: string;
  /** Injectable transport: tests and in-process servers pass their own. */
  fetch?: (request: Request) => Promise<Response>;
  /** Per-attempt timeout in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Retry policy for idempotent calls, or `false` to never retry. */
  retry?: RetryOptions | false;
  userAgent?: string;
  /**
   * At most this many requests in flight at once (each attempt counts; backoff sleeps and waits between polls
   * hold no slot). Unlimited when absent.
   */
  maxConcurrentRequests?: number;
}

/** What a request was, recorded per response so errors can name the spec path, not the filled-in URL. */
export interface RequestMeta {
  method: string;
  schemaPath: string;
}

const requestMeta = new WeakMap<Response, RequestMeta>();

export function recordMeta(response: Response, meta: RequestMeta): void {
  requestMeta.set(response, meta);
}

export function metaOf(response: Response): RequestMeta | undefined {
  return requestMeta.get(response);
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export function createCmlClient(options: CmlClientOptions): CmlClient {
  const baseUrl = normaliseBaseUrl(options.baseUrl);
  if (!options.apiKey) throw new UserError("the CML API key is empty", { notes: ["set CML_API_KEY"] });
  const transport = limitConcurrency(
    options.fetch ?? ((request: Request) => globalThis.fetch(request)),
    options.maxConcurrentRequests,
  );
  const send = retryingFetch(transport, {
    retry: options.retry === false ? false : { ...DEFAULT_RETRY, ...options.retry },
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  const headers = requestHeaders(options.apiKey, options.userAgent ?? "cml-lab");
  const client = createClient<paths>({ baseUrl, fetch: send });
  client.use(authAndMeta(headers));
  rawTransports.set(client, { baseUrl, send, headers });
  return client;
}

function limitConcurrency(
  transport: (request: Request) => Promise<Response>,
  max: number | undefined,
): (request: Request) => Promise<Response> {
  if (max === undefined || !Number.isFinite(max)) return transport;
  if (!Number.isInteger(max) || max < 1)
    throw new UserError(`maxConcurrentRequests must be a positive integer, got ${max}`);
  const limit = pLimit(max);
  return (request) => limit(() => transport(request));
}

/** What `rawRequest` needs to send an untyped call through the same auth, retries and timeouts. */
export interface RawTransport {
  baseUrl: string;
  send: (request: Request) => Promise<Response>;
  headers: Readonly<Record<string, string>>;
}

const rawTransports = new WeakMap<CmlClient, RawTransport>();

export function rawTransportOf(api: CmlClient): RawTransport {
  const transport = rawTransports.get(api);
  if (!transport) throw new Error("bug: rawRequest needs a client made by createCmlClient");
  return transport;
}

function requestHeaders(apiKey: string, userAgent: string): Record<string, string> {
  return { Authorization: `Bearer ${apiKey}`, "User-Agent": userAgent, Accept: "application/json" };
}

function authAndMeta(headers: Readonly<Record<string, string>>): Middleware {
  return {
    onRequest({ request }) {
      for (const [name, value] of Object.entries(headers))
        if (!request.headers.has(name) || name === "Authorization") request.headers.set(name, value);
      return request;
    },
    onResponse({ request, response, schemaPath }) {
      recordMeta(response, { method: request.method, schemaPath });
      return response;
    },
    onError({ request, schemaPath, error }) {
      return noResponseError(request.method, schemaPath, error);
    },
  };
}

/** No response arrived (network failure, timeout after retries): the same error type as an HTTP failure. */
export function noResponseError(method: string, path: string, error: unknown): Error {
  if (error instanceof Error && error.name === "AbortError") return error;
  const timedOut = error instanceof Error && error.name === "TimeoutError";
  return new ApiError({
    method,
    path,
    status: 0,
    code: timedOut ? "Timeout" : "Network",
    serverMessage: describeNetworkError(error),
    retryable: true,
    cause: error,
  });
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = "code" in cause && typeof cause.code === "string" ? `${cause.code} ` : "";
    return `${error.message} (${code}${cause.message})`;
  }
  return error.message;
}

/**
 * Accepts `host`, `https://host`, `https://host/`, `https://host/api/v2`, `https://host/api/v1` and returns the
 * origin-with-prefix that the spec's `/api/v2/...` paths are appended to.
 */
export function normaliseBaseUrl(input: string): string {
  const trimmed = input.trim();
  if (!trimmed) throw new UserError("the CML API URL is empty", { notes: ["set CML_API_URL"] });
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UserError(`the CML API URL is not a URL: ${input}`);
  }
  const path = url.pathname.replace(/\/+$/, "").replace(/\/api\/v[12]$/, "");
  return `${url.origin}${path}`;
}
