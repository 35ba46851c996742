import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { responseViolations } from "../spec-check.js";

/**
 * One msw server per test file; handlers are added per test with `server.use(...)`. Every mocked response to a
 * CML API operation is checked against the spec (test/spec-check.ts) and each test must end with none broken,
 * so a handler cannot teach the client something CML never sends. A test that breaks one on purpose takes the
 * violations with `specViolations()` and asserts them.
 */
export function useMswServer() {
  const server = setupServer();
  const checks: Promise<string[]>[] = [];
  server.events.on("response:mocked", ({ request, response }) => {
    checks.push(responseViolations(request.method, request.url, response));
  });
  const specViolations = async () => (await Promise.all(checks.splice(0))).flat();
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(async () => {
    server.resetHandlers();
    expect(await specViolations()).toEqual([]);
  });
  afterAll(() => server.close());
  return Object.assign(server, { specViolations });
}

export const BASE = "https://ml-test.example.cloudera.site";
/** A canary API key: no test output, error or log may ever contain it. */
export const API_KEY = "canary0123456789abcdef.canary-key-never-print";
