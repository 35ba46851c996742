/**
 * The one retry loop (house style P8). Callers say what is worth another try and how long the server asked us
 * to wait; the loop owns the backoff (exponential with full jitter), the bounds (attempts and elapsed time) and
 * cancellation. Used by the CML client's fetch, the engine's idempotent creates, the scraper and the embedders.
 */

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Give up retrying once the next pause would end this long after the first attempt. */
  maxElapsedMs: number;
}

/** What a caller makes of one attempt's outcome: not worth repeating, or worth it after `delayMs` (else backoff). */
export type RetryVerdict = false | { delayMs?: number | undefined; reason?: string };

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface RetryOptions<T> {
  policy: RetryPolicy;
  /** Called for every outcome; a value may be worth repeating too (a 503 response). */
  classify: (outcome: Outcome<T>, attempt: number) => RetryVerdict;
  /** Before the pause: release what the failed attempt holds (a response body), report progress. */
  onRetry?: (outcome: Outcome<T>, info: { attempt: number; delayMs: number; reason?: string | undefined }) => void;
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/**
 * Runs `attempt` until an outcome is not worth repeating or the policy is spent; then returns the last value
 * or throws the last error, unchanged.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions<T>): Promise<T> {
  const sleep = options.sleep ?? abortableSleep;
  const started = Date.now();
  for (let n = 0; ; n++) {
    let outcome: Outcome<T>;
    try {
      outcome = { ok: true, value: await attempt(n) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const verdict =
      n < options.policy.retries && !options.signal?.aborted ? options.classify(outcome, n) : (false as const);
    const delayMs = verdict ? (verdict.delayMs ?? backoffMs(n, options.policy, options.random)) : 0;
    if (!verdict || Date.now() - started + delayMs > options.policy.maxElapsedMs) {
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    }
    options.onRetry?.(outcome, { attempt: n + 1, delayMs, reason: verdict.reason });
    await sleep(delayMs, options.signal);
  }
}

/** Parses Retry-After (delta-seconds or an HTTP date, RFC 9110 §10.2.3) into ms; undefined when absent or bad. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with full jitter: a random pause up to min(max, min·2^attempt). */
export function backoffMs(
  attempt: number,
  policy: Pick<RetryPolicy, "minDelayMs" | "maxDelayMs">,
  random = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** attempt);
  return Math.round(random() * ceiling);
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
