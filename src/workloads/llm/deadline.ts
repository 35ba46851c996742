/**
 * One upstream call's cancellation: the caller's signal (client disconnect, stop button) plus an idle timeout
 * that restarts on every chunk, so a slow but steady stream survives and a stalled one ends as an error event
 * instead of a hung response. Also maps whatever was thrown to a ModelError fit for a user.
 */

import { redact } from "../../shared/secrets.js";
import { ModelError } from "./types.js";

export class CallDeadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;

  constructor(
    private readonly outer: AbortSignal | undefined,
    private readonly idleMs: number,
    private readonly what: string,
  ) {
    this.signal = outer ? AbortSignal.any([outer, this.controller.signal]) : this.controller.signal;
    this.touch();
  }

  /** Restarts the idle timer; call whenever bytes arrive. */
  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new DOMException(`${this.what} timed out`, "TimeoutError"));
    }, this.idleMs);
    this.timer.unref();
  }

  done(): void {
    clearTimeout(this.timer);
  }

  /** A user-facing error; `secrets` are scrubbed from anything taken from the original error. */
  toError(error: unknown, secrets: readonly (string | undefined)[] = []): ModelError {
    this.done();
    if (error instanceof ModelError) return error;
    if (this.timedOut) {
      return new ModelError(
        "timeout",
        `${this.what} sent nothing for ${Math.round(this.idleMs / 1000)} s; try again later`,
      );
    }
    if (this.outer?.aborted) return new ModelError("aborted", `the ${this.what} call was cancelled`);
    return new ModelError("upstream", `${this.what} failed: ${redact(describeError(error), secrets)}`);
  }
}

/** A short description: the network error code when there is one ("ECONNREFUSED"), else the message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause;
    if (cause && typeof cause === "object" && "code" in cause && typeof cause.code === "string") {
      return `${error.message} (${cause.code})`;
    }
    return error.message.slice(0, 300);
  }
  return String(error).slice(0, 300);
}

/**
 * Iterates `source` but stops waiting as soon as `signal` aborts, even when the source is stuck between
 * items (an SDK stream that ignores the signal would otherwise hold the response open).
 */
export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  const iterator = source[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    while (true) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
    void iterator.return?.()?.catch(() => {});
  }
}
