/**
 * The one bounded wait (house style P7): poll until a condition holds, fail early on a state that cannot reach
 * it, give up after a timeout naming what was awaited and the last status seen. Polls start fast and back off
 * to the interval, so local runs finish quickly while a real server is not hammered. The CML client's
 * `waitFor`/`waits`, the local platform's start and stop, readiness probes and the lab's start-up all use it.
 */

import { errorMessage } from "./errors.js";
import { abortableSleep } from "./retry.js";

export interface PollSpec<T> {
  /** What is awaited, for messages: `application chat to be running`. */
  what: string;
  until: (value: T) => boolean;
  timeoutMs: number;
  /** Longest pause between polls (the first polls come sooner). */
  intervalMs: number;
  /** The status a value shows, for progress and for the timeout message. */
  status?: (value: T) => string | undefined;
  /** A reason when the value can no longer reach the awaited state. */
  failWhen?: (value: T) => string | undefined;
  /** A poll error that means "not yet" rather than the end of the wait. */
  isPassing?: (error: unknown) => boolean;
  /**
   * How long polls may keep failing in a row (passing errors) before the wait ends with the last of them: a
   * server that stopped answering is not "not yet" for the whole timeout. Default 60 s.
   */
  failingForMs?: number;
  /** Called whenever the observed status changes. */
  onProgress?: (status: string, elapsedMs: number) => void;
  signal?: AbortSignal;
  /**
   * A value already seen, e.g. the answer to the create that started what is awaited: judged first, so the first
   * poll comes after the first interval instead of at once, asking again what was just answered.
   */
  initial?: T;
}

const FIRST_INTERVAL_MS = 100;
const DEFAULT_FAILING_FOR_MS = 60_000;

export async function pollUntil<T>(poll: () => Promise<T>, spec: PollSpec<T>): Promise<T> {
  const started = Date.now();
  let interval = Math.min(FIRST_INTERVAL_MS, spec.intervalMs);
  let lastStatus: string | undefined;
  let seen: { value: T } | undefined = spec.initial === undefined ? undefined : { value: spec.initial };
  // The passing error of the last poll, and since when polls have failed in a row.
  let failing: { error: unknown; since: number } | undefined;
  for (;;) {
    spec.signal?.throwIfAborted();
    let polled: { value: T } | undefined = seen;
    seen = undefined;
    if (!polled)
      try {
        polled = { value: await poll() };
        failing = undefined;
      } catch (error) {
        if (!spec.isPassing?.(error)) throw error;
        failing = { error, since: failing?.since ?? Date.now() };
        if (Date.now() - failing.since >= (spec.failingForMs ?? DEFAULT_FAILING_FOR_MS))
          throw new WaitTimeoutError(spec.what, lastStatus, Date.now() - started, error);
      }
    if (polled) {
      const status = spec.status?.(polled.value);
      if (status !== lastStatus) {
        lastStatus = status;
        spec.onProgress?.(status ?? "unknown", Date.now() - started);
      }
      if (spec.until(polled.value)) return polled.value;
      const failure = spec.failWhen?.(polled.value);
      if (failure) throw new WaitFailedError(spec.what, status, failure);
    }
    const elapsed = Date.now() - started;
    if (elapsed >= spec.timeoutMs) throw new WaitTimeoutError(spec.what, lastStatus, elapsed, failing?.error);
    await abortableSleep(Math.min(interval, spec.timeoutMs - elapsed), spec.signal);
    interval = Math.min(spec.intervalMs, interval * 2);
  }
}

/**
 * A bounded wait ran out; names what it waited for and the last status it saw, and why the last poll failed when
 * it did (the error is also the `cause`).
 */
export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";
  constructor(
    readonly what: string,
    readonly lastStatus: string | undefined,
    readonly elapsedMs: number,
    lastPollError?: unknown,
  ) {
    super(
      `${what} did not finish within ${formatDuration(elapsedMs)} (last status: ${lastStatus ?? "none seen"}` +
        (lastPollError === undefined ? ")" : `; last poll failed: ${errorMessage(lastPollError)})`),
      lastPollError === undefined ? undefined : { cause: lastPollError },
    );
  }
}

/** A wait saw a state from which the awaited state cannot be reached (e.g. APPLICATION_FAILED). */
export class WaitFailedError extends Error {
  override readonly name = "WaitFailedError";
  constructor(
    readonly what: string,
    readonly lastStatus: string | undefined,
    readonly reason: string,
  ) {
    super(`${what} failed: ${reason}`);
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest === 0 ? `${m}m` : `${m}m${rest}s`;
}
