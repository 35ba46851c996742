import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isApiError, unwrap } from "../../src/client/index.js";
import { clientFor, startTestPlatform, type TestPlatform } from "./helpers.js";

let t: TestPlatform;
beforeEach(async () => {
  t = await startTestPlatform();
});
afterEach(async () => {
  await t.close();
  expect(t.specProblems).toEqual([]);
});

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isApiError(error)) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("fault injection (in-process only)", () => {
  it("adds latency", async () => {
    t.platform.faults.set({ latencyMs: 150 });
    const started = Date.now();
    await unwrap(t.api.GET("/api/v2/runtimes"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("answers 503 at the error rate; an idempotent call retried by the client gets through", async () => {
    t.platform.faults.set({ errorRate: 1, times: 2 });
    const retrying = clientFor(t.platform, t.specProblems, true);
    const runtimes = await unwrap(retrying.GET("/api/v2/runtimes"));
    expect(runtimes.runtimes).toHaveLength(2);
    expect(t.platform.faults.injected).toBe(2);
    t.platform.faults.set({ errorRate: 1 });
    expect((await failure(unwrap(t.api.GET("/api/v2/runtimes")))).status).toBe(503);
  });

  it("answers 429 with Retry-After, which the client honours", async () => {
    t.platform.faults.set({ rateLimitRate: 1, retryAfterSeconds: 1, times: 1 });
    const raw = await fetch(`${t.platform.apiUrl}/api/v2/runtimes`, {
      headers: { Authorization: `Bearer ${t.platform.apiKey}` },
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get("retry-after")).toBe("1");
    t.platform.faults.set({ rateLimitRate: 1, retryAfterSeconds: 1, times: 1 });
    const started = Date.now();
    await unwrap(clientFor(t.platform, t.specProblems, true).GET("/api/v2/runtimes"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("drops connections: before handling (nothing happened) or after (the create happened, the answer was lost)", async () => {
    t.platform.faults.set({ dropRate: 1, times: 1 });
    const before = await failure(unwrap(t.api.POST("/api/v2/projects", { body: { name: "lost-request" } })));
    expect(before.status).toBe(0);
    t.platform.faults.set({ dropRate: 1, dropPhase: "after", times: 1 });
    const after = await failure(unwrap(t.api.POST("/api/v2/projects", { body: { name: "lost-answer" } })));
    expect(after.status).toBe(0);
    const names = (await unwrap(t.api.GET("/api/v2/projects"))).projects?.map((p) => p.name);
    expect(names).toEqual(["lost-answer"]);
  });

  it("crashes after N calls: later calls get no answer until cleared, and the state written so far is kept", async () => {
    t.platform.faults.set({ crashAfterCalls: 2, match: (call) => call.operationId === "CreateProject" });
    await unwrap(t.api.POST("/api/v2/projects", { body: { name: "one" } }));
    await unwrap(t.api.POST("/api/v2/projects", { body: { name: "two" } }));
    expect((await failure(unwrap(t.api.POST("/api/v2/projects", { body: { name: "three" } })))).status).toBe(0);
    expect(t.platform.faults.crashed).toBe(true);
    t.platform.faults.clear();
    const names = (await unwrap(t.api.GET("/api/v2/projects"))).projects?.map((p) => p.name).sort();
    expect(names).toEqual(["one", "two"]);
  });
});
