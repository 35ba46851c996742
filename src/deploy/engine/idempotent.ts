/**
 * Creating without duplicates. The client never retries a POST (a lost answer may mean it was created), so the
 * engine does it safely: after a failure that may have happened after the server acted (5xx, 429, no answer),
 * look the object up by natural key and marker before posting again.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { isApiError } from "../../client/index.js";
import { type RetryPolicy, retry } from "../../shared/retry.js";

/** The client already backs off on idempotent calls; this only spaces out whole-operation repeats. */
const WHOLE_OPERATION_RETRY: RetryPolicy = { retries: 5, minDelayMs: 100, maxDelayMs: 2_000, maxElapsedMs: 120_000 };

export function createIdempotently<T>(
  post: () => Promise<T>,
  find: () => Promise<T | undefined>,
  signal?: AbortSignal,
): Promise<T> {
  // The marker makes "it exists" mean "we made it" (a foreign object is refused at plan time), so after a
  // failure that may have acted, a found object is the one we posted.
  return repeatIdempotent(async (attempt) => (attempt > 0 ? await findPatiently(find) : undefined) ?? post(), signal);
}

/**
 * Throttling, server errors and lost answers: worth another try, after checking whether the server did it.
 * (The client marks a failed POST as not retryable because it cannot know; the lookup here can.)
 */
export function mayHaveActed(error: unknown): boolean {
  return isApiError(error) && (error.retryable || error.status === 429 || error.status >= 500 || error.status === 0);
}

/** The lookup's GETs are retried by the client itself; one more try covers a throttled POST-then-GET burst. */
async function findPatiently<T>(find: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await find();
  } catch (error) {
    if (!mayHaveActed(error)) throw error;
    await sleep(WHOLE_OPERATION_RETRY.minDelayMs * 2);
    return find();
  }
}

/** Deletes tolerate "already gone", which makes destroy and crash-resume idempotent. */
export async function deleteIfPresent(del: () => Promise<unknown>): Promise<void> {
  try {
    await del();
  } catch (error) {
    if (isApiError(error) && error.isNotFound) return;
    throw error;
  }
}

/**
 * Repeats an operation that is idempotent as a whole (e.g. delete-then-upload) after failures that may be
 * passing; a failure that says the request itself is wrong is thrown at once.
 */
export function repeatIdempotent<T>(operation: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
  return retry(operation, {
    policy: WHOLE_OPERATION_RETRY,
    ...(signal ? { signal } : {}),
    classify: (outcome) => !outcome.ok && mayHaveActed(outcome.error) && {},
  });
}
