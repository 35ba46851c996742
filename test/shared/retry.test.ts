import { describe, expect, it } from "vitest";
import { backoffMs, retry, retryAfterMs } from "../../src/shared/retry.js";

const policy = { retries: 3, minDelayMs: 10, maxDelayMs: 40, maxElapsedMs: 60_000 };
const noSleep = async () => {};

describe("retry (the one loop)", () => {
  it("repeats what the caller classifies as passing, and returns the first good value", async () => {
    const pauses: number[] = [];
    let calls = 0;
    const value = await retry(async () => ++calls, {
      policy,
      classify: (o) => (o.ok && o.value < 3 ? { delayMs: 5 } : false),
      sleep: async (ms) => void pauses.push(ms),
    });
    expect(value).toBe(3);
    expect(pauses).toEqual([5, 5]);
  });

  it("stops after `retries` and hands back the last outcome unchanged (value or error)", async () => {
    let calls = 0;
    const last = await retry(async () => ++calls, { policy, classify: () => ({}), sleep: noSleep });
    expect([last, calls]).toEqual([4, 4]);
    const boom = new Error("boom");
    await expect(
      retry(async () => Promise.reject(boom), { policy, classify: () => ({}), sleep: noSleep }),
    ).rejects.toBe(boom);
  });

  it("never waits past maxElapsedMs, and a not-retryable error is thrown at once", async () => {
    let calls = 0;
    await retry(async () => ++calls, {
      policy: { ...policy, maxElapsedMs: 100 },
      classify: () => ({ delayMs: 1_000 }),
      sleep: noSleep,
    });
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      retry(async () => Promise.reject(new Error(String(++calls))), { policy, classify: () => false }),
    ).rejects.toThrow("1");
  });

  it("backs off with full jitter under the ceiling, and reads both forms of Retry-After", () => {
    expect(backoffMs(0, policy, () => 1)).toBe(10);
    expect(backoffMs(5, policy, () => 1)).toBe(40);
    expect(backoffMs(5, policy, () => 0)).toBe(0);
    expect(retryAfterMs("3")).toBe(3_000);
    expect(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(10_000);
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
