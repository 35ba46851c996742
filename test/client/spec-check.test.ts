/**
 * The spec check every CML-traffic test relies on (test/spec-check.ts) fails on a deliberate violation: through
 * the msw server's hook, and on its own for error bodies and paths outside the spec.
 */
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { createCmlClient } from "../../src/client/index.js";
import { responseViolations } from "../spec-check.js";
import { API_KEY, BASE, useMswServer } from "./msw.js";

const server = useMswServer();
const api = createCmlClient({ baseUrl: BASE, apiKey: API_KEY, retry: false });

describe("the spec check on mocked CML responses", () => {
  it("reports an application whose unset stopped_at is sent as an empty string, and a mistyped field", async () => {
    server.use(
      http.get(`${BASE}/api/v2/projects/:project/applications/:app`, () =>
        HttpResponse.json({ id: "a1", name: "chat", stopped_at: "", running_at: "2026-12-04T18:00:00Z", cpu: "1" }),
      ),
    );
    await api.GET("/api/v2/projects/{project_id}/applications/{application_id}", {
      params: { path: { project_id: "p1", application_id: "a1" } },
    });
    expect(await server.specViolations()).toEqual([
      'GetApplication 200: response.stopped_at: must match format "date-time"',
      "GetApplication 200: response.cpu: must be number",
    ]);
  });

  it("passes a conforming answer, with unset timestamps left out", async () => {
    server.use(
      http.get(`${BASE}/api/v2/projects/:project/applications/:app`, () =>
        HttpResponse.json({ id: "a1", name: "chat", running_at: "2026-12-04T18:00:00Z", cpu: 1 }),
      ),
    );
    await api.GET("/api/v2/projects/{project_id}/applications/{application_id}", {
      params: { path: { project_id: "p1", application_id: "a1" } },
    });
    expect(await server.specViolations()).toEqual([]);
  });

  it("checks error bodies against runtimeError, and leaves paths outside the spec alone", async () => {
    const url = `${BASE}/api/v2/projects/p1`;
    expect(await responseViolations("GET", url, Response.json({ code: 5, message: "no" }, { status: 404 }))).toEqual(
      [],
    );
    expect(await responseViolations("GET", url, Response.json({ code: "NOT_FOUND" }, { status: 404 }))).toEqual([
      "GetProject 404: response.code: must be integer",
    ]);
    expect(
      await responseViolations("GET", url, new Response("{", { headers: { "content-type": "application/json" } })),
    ).toEqual(["GetProject 200: the body is not JSON: {"]);
    expect(
      await responseViolations("GET", `${BASE}/api/v2/projects/p1/applications/a1/logs`, Response.json(1)),
    ).toEqual([]);
  });
});
