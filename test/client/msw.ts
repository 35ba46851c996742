import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll } from "vitest";

/** One msw server per test file; handlers are added per test with `server.use(...)`. */
export function useMswServer() {
  const server = setupServer();
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
  return server;
}

export const BASE = "https://ml-test.example.cloudera.site";
/** A canary API key: no test output, error or log may ever contain it. */
export const API_KEY = "canary0123456789abcdef.canary-key-never-print";
