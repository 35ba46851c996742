/**
 * unwrap: the single seam where an openapi-fetch result becomes a value or an ApiError (house style P2).
 * `const job = await unwrap(api.GET(...))`.
 */
import { metaOf } from "./client.js";
import { ApiError, grpcCodeName, RETRYABLE_STATUSES } from "./errors.js";
import { isIdempotent } from "./retry.js";

/** The shape openapi-fetch resolves to (a union of a success and an error branch); structural, so any operation fits. */
export type FetchResult = { data?: unknown; error?: unknown; response: Response };
type Success<R> = Extract<R, { data: unknown }>;
/** The body type of an operation's success branch. */
export type DataOf<R> = Success<R>["data"];

const REQUEST_ID_HEADERS = ["x-request-id", "x-cdp-request-id", "request-id", "x-amzn-requestid"];

export async function unwrap<R extends FetchResult>(pending: Promise<R> | R): Promise<DataOf<R>> {
  const result = await pending;
  // 2xx with an empty body (DELETE, UploadFile) arrives as data undefined, which is what those operations declare.
  if (succeeded(result)) return result.data;
  throw apiErrorFrom(result.response, result.error);
}

function succeeded<R extends FetchResult>(result: R): result is Success<R> {
  return result.response.ok;
}

export function apiErrorFrom(response: Response, body: unknown): ApiError {
  const meta = metaOf(response);
  const method = meta?.method ?? "?";
  const { message, code } = readErrorBody(body);
  const status = response.status;
  return new ApiError({
    method,
    path: meta?.schemaPath ?? safePath(response.url),
    status,
    statusText: response.statusText || undefined,
    code: code ?? grpcCodeName(undefined),
    serverMessage: message,
    requestId: REQUEST_ID_HEADERS.map((h) => response.headers.get(h)).find((v) => v) ?? undefined,
    retryable:
      RETRYABLE_STATUSES.has(status) && (meta === undefined || isIdempotent(method, response.url || "http://x/")),
  });
}

/** CML errors are `runtimeError {error, code, message, details}` with a gRPC code; proxies may send text. */
function readErrorBody(body: unknown): { message?: string; code?: string } {
  if (typeof body === "string") return { message: body.trim().slice(0, 500) || undefined };
  if (typeof body !== "object" || body === null) return {};
  const message = "message" in body && typeof body.message === "string" && body.message ? body.message : undefined;
  const error = "error" in body && typeof body.error === "string" && body.error ? body.error : undefined;
  const code = "code" in body && typeof body.code === "number" ? grpcCodeName(body.code) : undefined;
  return { message: message ?? error, code };
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "?";
  }
}
