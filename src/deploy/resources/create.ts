/**
 * Creating without duplicates. The client never retries a POST (a lost answer may mean it was created), so the
 * engine does it safely: after a failure that may have happened after the server acted (5xx, 429, no answer),
 * look the object up by natural key and marker before posting again.
 */
import { isApiError } from "../../client/index.js";

const ATTEMPTS = 4;

export async function createIdempotently<T>(
  post: () => Promise<T>,
  find: () => Promise<T | undefined>,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await post();
    } catch (error) {
      if (!mayHaveActed(error) || attempt >= ATTEMPTS) throw error;
      // The marker makes "it exists" mean "we made it" (a foreign object is refused at plan time).
      const existing = await findPatiently(find);
      if (existing !== undefined) return existing;
      signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}

/** Throttling, gateway errors and lost answers: the server may or may not have done it. */
export function mayHaveActed(error: unknown): boolean {
  return isApiError(error) && (error.retryable || error.status >= 500 || error.status === 0);
}

async function findPatiently<T>(find: () => Promise<T | undefined>): Promise<T | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await find();
    } catch (error) {
      if (!mayHaveActed(error) || attempt >= ATTEMPTS) throw error;
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
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
