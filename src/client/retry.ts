/**
 * Retries as a property of the request and the failure (house style P8): only idempotent calls,
 * only on throttling, gateway errors and network failures, with bounded exponential backoff + full jitter,
 * honouring Retry-After. Applied as the client's `fetch`, so every operation gets it without call sites knowing.
 */

import { isCertificateError } from "../shared/certificate-error.js";
import { discardBody } from "../shared/discard-body.js";
import { abortableSleep, type RetryPolicy, retry, retryAfterMs } from "../shared/retry.js";
import { RETRYABLE_STATUSES } from "./errors.js";

/** The client's retry settings: any of the shared policy's bounds (src/shared/retry.ts). */
export type RetryOptions = Partial<RetryPolicy>;

export { abortableSleep };

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 4,
  minDelayMs: 250,
  maxDelayMs: 8_000,
  maxElapsedMs: 60_000,
};

/**
 * Custom methods that are safe to repeat: restarting or stopping twice ends in the same state; `:download` (a POST,
 * openapi/FACTS.md §5) only reads a file.
 */
const IDEMPOTENT_CUSTOM_METHODS = [":restart", ":stop", ":download"];
const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"]);

export function isIdempotent(method: string, url: string): boolean {
  if (IDEMPOTENT_METHODS.has(method.toUpperCase())) return true;
  const pathname = new URL(url).pathname;
  return IDEMPOTENT_CUSTOM_METHODS.some((suffix) => pathname.endsWith(suffix));
}

/** Network-level failures that mean "no answer arrived", so an idempotent retry is safe. */
export function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "TimeoutError") return true;
  // An untrusted certificate arrives as the same "fetch failed", but no retry can change it.
  if (isCertificateError(error)) return false;
  // undici reports transport failures as TypeError("fetch failed") with the socket error as cause.
  const cause = error.cause;
  if (error instanceof TypeError && /fetch failed|network|terminated/i.test(error.message)) return true;
  if (cause instanceof Error) {
    const code = "code" in cause ? cause.code : undefined;
    return (
      typeof code === "string" && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_SOCKET|UND_ERR_CLOSED)$/.test(code)
    );
  }
  return false;
}

export interface RetryingFetchOptions {
  retry: RetryPolicy | false;
  /** Per-attempt timeout; the caller's own signal still applies on top. */
  timeoutMs: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

type Fetch = (request: Request) => Promise<Response>;
const NO_RETRY: RetryPolicy = { retries: 0, minDelayMs: 0, maxDelayMs: 0, maxElapsedMs: 0 };

export function retryingFetch(base: Fetch, options: RetryingFetchOptions): Fetch {
  return async (request) => {
    const canRetry = options.retry !== false && isIdempotent(request.method, request.url);
    // Buffer the body once so every attempt can send it again (Request bodies are single-use streams).
    const body = request.body === null ? undefined : await request.arrayBuffer();
    const send = async () => {
      const signal = AbortSignal.any([request.signal, AbortSignal.timeout(options.timeoutMs)]);
      const attempt = new Request(request.url, {
        method: request.method,
        headers: request.headers,
        body,
        signal,
        redirect: request.redirect,
      });
      try {
        return await base(attempt);
      } catch (error) {
        const timedOut = error instanceof Error && error.name === "TimeoutError";
        throw timedOut ? timeoutError(options.timeoutMs, error) : error;
      }
    };
    return retry(send, {
      policy: canRetry && options.retry !== false ? options.retry : NO_RETRY,
      signal: request.signal,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      classify: (outcome) => {
        if (request.signal.aborted) return false;
        if (outcome.ok) {
          if (!RETRYABLE_STATUSES.has(outcome.value.status)) return false;
          return { delayMs: retryAfterMs(outcome.value.headers.get("retry-after")) };
        }
        return isNetworkError(outcome.error) ? {} : false;
      },
      onRetry: (outcome) => {
        if (outcome.ok) discardBody(outcome.value);
      },
    });
  };
}

function timeoutError(timeoutMs: number, cause: unknown): Error {
  const error = new Error(`no response within ${timeoutMs}ms`, { cause });
  error.name = "TimeoutError";
  return error;
}
