import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { ApiError, createCmlClient, isApiError, normaliseBaseUrl, unwrap } from "../../src/client/index.js";
import { API_KEY, BASE, useMswServer } from "./msw.js";

const server = useMswServer();
const fastRetry = { retries: 3, minDelayMs: 1, maxDelayMs: 5, maxElapsedMs: 5_000 };
const api = (options: Partial<Parameters<typeof createCmlClient>[0]> = {}) =>
  createCmlClient({ baseUrl: BASE, apiKey: API_KEY, retry: fastRetry, ...options });

describe("createCmlClient", () => {
  it("sends the key as a Bearer token and returns the typed body", async () => {
    let auth: string | null = null;
    server.use(
      http.get(`${BASE}/api/v2/projects/:id`, ({ request, params }) => {
        auth = request.headers.get("authorization");
        return HttpResponse.json({ id: params.id, name: "demo", creation_status: "success" });
      }),
    );
    const project = await unwrap(
      api().GET("/api/v2/projects/{project_id}", { params: { path: { project_id: "abcd-efgh-ijkl-mnop" } } }),
    );
    expect(project.name).toBe("demo");
    expect(project.id).toBe("abcd-efgh-ijkl-mnop");
    expect(auth).toBe(`Bearer ${API_KEY}`);
  });

  it("keeps at most maxConcurrentRequests in flight and still completes every call", async () => {
    let inFlight = 0;
    let peak = 0;
    const transport = async (_request: Request) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 10));
      inFlight--;
      return Response.json({ id: "p", name: "demo" });
    };
    const limited = api({ fetch: transport, maxConcurrentRequests: 3 });
    const get = () => unwrap(limited.GET("/api/v2/projects/{project_id}", { params: { path: { project_id: "p" } } }));
    const results = await Promise.all(Array.from({ length: 20 }, get));
    expect(results).toHaveLength(20);
    expect(peak).toBe(3);
    const unlimited = api({ fetch: transport });
    peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        unwrap(unlimited.GET("/api/v2/projects/{project_id}", { params: { path: { project_id: "p" } } })),
      ),
    );
    expect(peak).toBe(20);
    expect(() => api({ maxConcurrentRequests: 0 })).toThrow(/positive integer/);
  });

  it.each([
    ["https://host.example", "https://host.example"],
    ["https://host.example/", "https://host.example"],
    ["https://host.example/api/v2", "https://host.example"],
    ["https://host.example/api/v2/", "https://host.example"],
    ["https://host.example/api/v1", "https://host.example"],
    ["host.example", "https://host.example"],
    ["http://127.0.0.1:8080/api/v1", "http://127.0.0.1:8080"],
  ])("normalises base URL %s", (input, expected) => {
    expect(normaliseBaseUrl(input)).toBe(expected);
  });

  it("fills dotted path parameters such as {job.id} (the gateway's PATCH paths)", async () => {
    let seen = "";
    server.use(
      http.patch(`${BASE}/api/v2/projects/:pid/jobs/:jid`, async ({ request, params }) => {
        seen = `${params.pid}/${params.jid}:${await request.text()}`;
        return HttpResponse.json({ id: params.jid, name: "renamed" });
      }),
    );
    const job = await unwrap(
      api().PATCH("/api/v2/projects/{project_id}/jobs/{job.id}", {
        params: { path: { project_id: "p111-p222-p333-p444", "job.id": "j111-j222-j333-j444" } },
        body: { name: "renamed", environment: JSON.stringify({ A: "1" }) },
      }),
    );
    expect(job.name).toBe("renamed");
    expect(seen).toBe('p111-p222-p333-p444/j111-j222-j333-j444:{"name":"renamed","environment":"{\\"A\\":\\"1\\"}"}');
  });
});

describe("errors", () => {
  it("maps CML's runtimeError body to one ApiError naming method, spec path, status and server message", async () => {
    server.use(
      http.post(`${BASE}/api/v2/projects/:pid/jobs`, () =>
        HttpResponse.json(
          {
            error: "script 'x.py' not found in project directory",
            code: 3,
            message: "script 'x.py' not found in project directory",
            details: [],
          },
          { status: 400, headers: { "x-request-id": "req-42" } },
        ),
      ),
    );
    const error = await unwrap(
      api().POST("/api/v2/projects/{project_id}/jobs", {
        params: { path: { project_id: "p111-p222-p333-p444" } },
        body: { name: "j", script: "x.py" },
      }),
    ).catch((e: unknown) => e);
    expect(isApiError(error)).toBe(true);
    if (!(error instanceof ApiError)) throw error;
    expect(error.status).toBe(400);
    expect(error.code).toBe("InvalidArgument");
    expect(error.method).toBe("POST");
    expect(error.path).toBe("/api/v2/projects/{project_id}/jobs");
    expect(error.requestId).toBe("req-42");
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      "POST /api/v2/projects/{project_id}/jobs → 400 Bad Request: script 'x.py' not found in project directory (request id req-42)",
    );
  });

  it("turns a non-JSON error body (a proxy page) into the message", async () => {
    server.use(http.get(`${BASE}/api/v2/projects`, () => new HttpResponse("upstream connect error", { status: 404 })));
    const error = await unwrap(api().GET("/api/v2/projects")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(String(error)).toContain("GET /api/v2/projects → 404");
    expect(String(error)).toContain("upstream connect error");
  });

  it("never puts the API key in an error, its JSON or its stack, even for network failures", async () => {
    server.use(
      http.get(`${BASE}/api/v2/projects`, () => HttpResponse.json({ message: "nope", code: 16 }, { status: 401 })),
      http.get(`${BASE}/api/v2/runtimes`, () => HttpResponse.error()),
    );
    const errors = [
      await unwrap(api().GET("/api/v2/projects")).catch((e: unknown) => e),
      await unwrap(api({ retry: false }).GET("/api/v2/runtimes")).catch((e: unknown) => e),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(ApiError);
      const everything = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack} ${JSON.stringify(Object.entries(error as object))}`;
      expect(everything).not.toContain(API_KEY);
      expect(everything).not.toContain("canary");
    }
    expect((errors[0] as ApiError).isAuthFailure).toBe(true);
    expect((errors[1] as ApiError).status).toBe(0);
    expect((errors[1] as ApiError).code).toBe("Network");
  });
});

describe("retries", () => {
  it("retries GET on 429 and honours Retry-After", async () => {
    const times: number[] = [];
    server.use(
      http.get(`${BASE}/api/v2/projects`, () => {
        times.push(Date.now());
        return times.length < 3
          ? HttpResponse.json({ message: "slow down", code: 8 }, { status: 429, headers: { "retry-after": "0.2" } })
          : HttpResponse.json({ projects: [{ name: "a" }], next_page_token: "" });
      }),
    );
    const page = await unwrap(api().GET("/api/v2/projects"));
    expect(page.projects?.[0]?.name).toBe("a");
    expect(times).toHaveLength(3);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(190);
  });

  it.each([500, 503])("never retries a POST create on %i", async (status) => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/api/v2/projects`, () => {
        calls++;
        return HttpResponse.json({ message: "boom", code: 13 }, { status });
      }),
    );
    const error = await unwrap(api().POST("/api/v2/projects", { body: { name: "x" } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(calls).toBe(1);
    expect((error as ApiError).retryable).toBe(false);
  });

  it("retries PATCH, DELETE and the :restart custom method on 503, resending the body", async () => {
    const bodies: string[] = [];
    let restarts = 0;
    server.use(
      http.patch(`${BASE}/api/v2/projects/:id`, async ({ request }) => {
        bodies.push(await request.text());
        return bodies.length < 2 ? new HttpResponse(null, { status: 503 }) : HttpResponse.json({ name: "n" });
      }),
      http.post(`${BASE}/api/v2/projects/:pid/applications/:appAction`, () => {
        restarts++;
        return restarts < 2
          ? new HttpResponse(null, { status: 502 })
          : HttpResponse.json({ status: "APPLICATION_STARTING" });
      }),
    );
    await unwrap(
      api().PATCH("/api/v2/projects/{project.id}", {
        params: { path: { "project.id": "p111-p222-p333-p444" } },
        body: { name: "n" },
      }),
    );
    expect(bodies).toEqual(['{"name":"n"}', '{"name":"n"}']);
    await unwrap(
      api().POST("/api/v2/projects/{project_id}/applications/{application_id}:restart", {
        params: { path: { project_id: "p111-p222-p333-p444", application_id: "a111-a222-a333-a444" } },
      }),
    );
    expect(restarts).toBe(2);
  });

  it("retries the :download custom method (a read sent as POST) on 503 and 429", async () => {
    let calls = 0;
    server.use(
      http.post(`${BASE}/api/v2/projects/:pid/files/:path`, () => {
        calls++;
        if (calls === 1) return new HttpResponse(null, { status: 503 });
        if (calls === 2) return new HttpResponse(null, { status: 429, headers: { "retry-after": "0" } });
        return new HttpResponse("record", { headers: { "content-type": "application/octet-stream" } });
      }),
    );
    const text = await unwrap(
      api().POST("/api/v2/projects/{project_id}/files/{path}:download", {
        params: { path: { project_id: "p111-p222-p333-p444", path: ".cml-lab/s.files.json" } },
        parseAs: "text",
      }),
    );
    expect(text).toBe("record");
    expect(calls).toBe(3);
  });

  it("gives up after the configured number of retries and reports the error as retryable", async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/api/v2/projects`, () => {
        calls++;
        return HttpResponse.json({ message: "unavailable", code: 14 }, { status: 503 });
      }),
    );
    const error = await unwrap(api().GET("/api/v2/projects")).catch((e: unknown) => e);
    expect(calls).toBe(fastRetry.retries + 1);
    expect(error).toMatchObject({ status: 503, code: "Unavailable", retryable: true });
  });

  it("times out a slow call per attempt and says so", async () => {
    server.use(
      http.get(`${BASE}/api/v2/projects`, async () => {
        await new Promise((r) => setTimeout(r, 2_000));
        return HttpResponse.json({});
      }),
    );
    const started = Date.now();
    const error = await unwrap(api({ timeoutMs: 100, retry: false }).GET("/api/v2/projects")).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toMatchObject({ status: 0, code: "Timeout" });
    expect(String(error)).toContain("GET /api/v2/projects → Timeout");
  });
});
