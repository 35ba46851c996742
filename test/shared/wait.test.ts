/**
 * The one bounded wait, when polls fail: a passing error is "not yet" for a while, but a server that stopped
 * answering ends the wait with its last error, and a timeout says why the last poll failed.
 */
import { describe, expect, it } from "vitest";
import { pollUntil, WaitTimeoutError } from "../../src/shared/wait.js";

const passing = (error: unknown) => error instanceof Error && error.message.startsWith("network");

describe("pollUntil with failing polls", () => {
  it("ends once polls have failed in a row for failingForMs, with the last error as message and cause", async () => {
    let polls = 0;
    const started = Date.now();
    const error = await pollUntil(
      async () => {
        polls++;
        if (polls === 1) return "creating";
        throw new Error(`network: refused #${polls}`);
      },
      {
        what: "project p",
        until: () => false,
        status: (s) => s,
        timeoutMs: 60_000,
        intervalMs: 10,
        isPassing: passing,
        failingForMs: 200,
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(String(error)).toMatch(
      /project p did not finish within \d+ms \(last status: creating; last poll failed: network: refused #\d+\)/,
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(polls).toBeGreaterThan(2);
  });

  it("a successful poll resets the failing streak, so interleaved failures ride to the awaited state", async () => {
    let polls = 0;
    const value = await pollUntil(
      async () => {
        polls++;
        await new Promise((r) => setTimeout(r, 30));
        if (polls % 2 === 0) throw new Error("network: blip");
        return polls >= 15 ? "ready" : "creating";
      },
      {
        what: "project p",
        until: (s) => s === "ready",
        timeoutMs: 10_000,
        intervalMs: 5,
        isPassing: passing,
        failingForMs: 50,
      },
    );
    expect(value).toBe("ready");
  });

  it("names the last poll's failure when the timeout comes first", async () => {
    const error = await pollUntil(
      async () => {
        throw new Error("network: reset");
      },
      { what: "application a", until: () => false, timeoutMs: 100, intervalMs: 10, isPassing: passing },
    ).catch((e: unknown) => e);
    expect(String(error)).toMatch(/\(last status: none seen; last poll failed: network: reset\)/);
  });

  it("a failure that is not passing ends the wait at once, unchanged", async () => {
    const boom = new Error("forbidden");
    const error = await pollUntil(
      async () => {
        throw boom;
      },
      { what: "x", until: () => false, timeoutMs: 10_000, intervalMs: 10, isPassing: passing },
    ).catch((e: unknown) => e);
    expect(error).toBe(boom);
  });
});
