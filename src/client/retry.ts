/**
 * Retries as a property of the request and the failure (house style P8): only idempotent calls,
 * only on throttling, gateway errors and network failures, with bounded exponential backoff + full jitter,
 * honouring Retry-After. Applied as the client's `fetch`, so every operation gets it without call sites knowing.
 */

import { isCertificateError } from "../shared/certificate-error.js";
import { discardBody } from "../shared/discard-body.js";
import { RETRYABLE_STATUSES } from "./errors.js";

export interface RetryOptions {
  /** Retries after the first attempt. */
  retries?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Give up retrying once this much time has passed since the first attempt. */
  maxElapsedMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  retries: 4,
  minDelayMs: 250,
  maxDelayMs: 8_000,
  maxElapsedMs: 60_000,
};

/** Custom methods that are safe to repeat: restarting or stopping twice ends in the same state. */
const IDEMPOTENT_CUSTOM_METHODS = [":restart", ":stop"];
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

/** Parses Retry-After (seconds or an HTTP date) into milliseconds; undefined when absent or unparseable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function backoffMs(attempt: number, options: Required<RetryOptions>, random = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** attempt);
  return Math.round(random() * ceiling);
}

export interface RetryingFetchOptions {
  retry: Required<RetryOptions> | false;
  /** Per-attempt timeout; the caller's own signal still applies on top. */
  timeoutMs: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

type Fetch = (request: Request) => Promise<Response>;
const NO_RETRY: Required<RetryOptions> = { retries: 0, minDelayMs: 0, maxDelayMs: 0, maxElapsedMs: 0 };

export function retryingFetch(base: Fetch, options: RetryingFetchOptions): Fetch {
  const sleep = options.sleep ?? abortableSleep;
  return async (request) => {
    const retry = options.retry === false ? NO_RETRY : options.retry;
    const canRetry = options.retry !== false && isIdempotent(request.method, request.url);
    const started = Date.now();
    // Buffer the body once so every attempt can send it again (Request bodies are single-use streams).
    const body = request.body === null ? undefined : await request.arrayBuffer();
    for (let attempt = 0; ; attempt++) {
      const signal = AbortSignal.any([request.signal, AbortSignal.timeout(options.timeoutMs)]);
      const attemptRequest = new Request(request.url, {
        method: request.method,
        headers: request.headers,
        body,
        signal,
        redirect: request.redirect,
      });
      const elapsed = Date.now() - started;
      const mayRetry = canRetry && attempt < retry.retries && !request.signal.aborted;
      try {
        const response = await base(attemptRequest);
        if (!mayRetry || !RETRYABLE_STATUSES.has(response.status)) return response;
        const delay = retryAfterMs(response.headers.get("retry-after")) ?? backoffMs(attempt, retry);
        if (elapsed + delay > retry.maxElapsedMs) return response;
        discardBody(response);
        await sleep(delay, request.signal);
      } catch (error) {
        const timedOut = error instanceof Error && error.name === "TimeoutError";
        const failure = timedOut ? timeoutError(options.timeoutMs, error) : error;
        if (!mayRetry || !isNetworkError(error) || request.signal.aborted) throw failure;
        const delay = backoffMs(attempt, retry);
        if (elapsed + delay > retry.maxElapsedMs) throw failure;
        await sleep(delay, request.signal);
      }
    }
  };
}

function timeoutError(timeoutMs: number, cause: unknown): Error {
  const error = new Error(`no response within ${timeoutMs}ms`, { cause });
  error.name = "TimeoutError";
  return error;
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
