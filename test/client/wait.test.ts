import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { createCmlClient, WaitFailedError, WaitTimeoutError, waitFor, waits } from "../../src/client/index.js";
import { API_KEY, BASE, useMswServer } from "./msw.js";

const server = useMswServer();
const api = createCmlClient({ baseUrl: BASE, apiKey: API_KEY, retry: false });

describe("waitFor", () => {
  it("times out naming what it waited for and the last status seen", async () => {
    const error = await waitFor(async () => ({ status: "APPLICATION_STARTING" }), {
      what: "application chat to be running",
      status: (a) => a.status,
      until: (a) => a.status === "APPLICATION_RUNNING",
      timeoutMs: 150,
      intervalMs: 20,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(String(error)).toMatch(
      /application chat to be running did not finish within \d+ms \(last status: APPLICATION_STARTING\)/,
    );
  });

  it("fails at once when the awaited state can no longer be reached, and reports progress", async () => {
    const seen: string[] = [];
    const statuses = ["pending", "pending", "build failed"];
    let i = 0;
    const error = await waitFor(async () => ({ status: statuses[Math.min(i++, 2)] }), {
      what: "build b1",
      status: (b) => b.status,
      until: (b) => b.status === "built",
      failWhen: (b) => (b.status === "build failed" ? "status build failed" : undefined),
      intervalMs: 1,
      onProgress: (s) => seen.push(s),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitFailedError);
    expect(seen).toEqual(["pending", "build failed"]);
  });

  it("judges a value already seen (the create's answer) instead of polling at once", async () => {
    const polledAt: number[] = [];
    const seen: string[] = [];
    const done = await waitFor(
      async () => {
        polledAt.push(polledAt.length);
        return { status: "APPLICATION_RUNNING" };
      },
      {
        what: "application chat to be running",
        status: (a) => a.status,
        until: (a) => a.status === "APPLICATION_RUNNING",
        intervalMs: 1_000,
        initial: { status: "APPLICATION_STARTING" },
        onProgress: (s) => seen.push(s),
      },
    );
    expect(done.status).toBe("APPLICATION_RUNNING");
    expect(seen).toEqual(["APPLICATION_STARTING", "APPLICATION_RUNNING"]);
    // One poll, not one at once plus one later: the initial value stood for the first.
    expect(polledAt).toHaveLength(1);
    // A value that already satisfies the wait needs no poll at all; one that cannot reach it fails at once.
    let polls = 0;
    const ready = { status: "APPLICATION_RUNNING" };
    const spec = { what: "x", status: (a: { status: string }) => a.status, intervalMs: 1_000 };
    await waitFor(async () => ({ status: String(++polls) }), { ...spec, until: (a) => a === ready, initial: ready });
    const failed = await waitFor(async () => ({ status: String(++polls) }), {
      ...spec,
      until: () => false,
      failWhen: (a) => (a.status === "APPLICATION_FAILED" ? "status APPLICATION_FAILED" : undefined),
      initial: { status: "APPLICATION_FAILED" },
    }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(WaitFailedError);
    expect(polls).toBe(0);
  });

  it("stops when aborted", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user pressed ctrl-c")), 50);
    const error = await waitFor(async () => ({ s: "x" }), {
      what: "x",
      status: (v) => v.s,
      until: () => false,
      intervalMs: 10,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(String(error)).toContain("ctrl-c");
  });
});

describe("ready-made waits", () => {
  it("waits for a project's creation_status to become success, riding out a 503", async () => {
    const states = ["creating", "503", "creating", "success"];
    let i = 0;
    server.use(
      http.get(`${BASE}/api/v2/projects/:id`, () => {
        const s = states[Math.min(i++, states.length - 1)];
        return s === "503"
          ? HttpResponse.json({ code: 14 }, { status: 503 })
          : HttpResponse.json({ id: "p", creation_status: s });
      }),
    );
    const project = await waits.projectReady(api, "p111-p222-p333-p444", { intervalMs: 5 });
    expect(project.creation_status).toBe("success");
  });

  it("resolves a finished job run whatever its outcome", async () => {
    let i = 0;
    server.use(
      http.get(`${BASE}/api/v2/projects/:pid/jobs/:jid/runs/:rid`, () =>
        HttpResponse.json({
          id: "r",
          status: ["ENGINE_STARTING", "ENGINE_RUNNING", "ENGINE_FAILED"][Math.min(i++, 2)],
        }),
      ),
    );
    const run = await waits.jobRunFinished(api, "p", "j", "r", { intervalMs: 5 });
    expect(run.status).toBe("ENGINE_FAILED");
  });

  it("reports an application that failed to start with its status", async () => {
    server.use(
      http.get(`${BASE}/api/v2/projects/:pid/applications/:aid`, () =>
        HttpResponse.json({ status: "APPLICATION_FAILED" }),
      ),
    );
    const error = await waits.applicationRunning(api, "p", "a", { intervalMs: 5 }).catch((e: unknown) => e);
    expect(String(error)).toBe("WaitFailedError: application a to be running failed: status APPLICATION_FAILED");
  });
});
