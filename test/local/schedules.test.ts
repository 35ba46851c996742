/**
 * Cron jobs fire on their schedule. The platform's schedule clock runs 60× faster than the wall clock here, so a
 * minute of schedule time is a second of test time; everything else (runs, processes, the API) is real.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CmlClient, isApiError, listAll, unwrap, waitFor } from "../../src/client/index.js";
import { nextFireTime, scheduleProblem } from "../../src/local/schedules.js";
import { PYTHON, readyProject, startTestPlatform, type TestPlatform, upload } from "./helpers.js";

const SPEED = 60;
let t: TestPlatform;
beforeEach(async () => {
  const start = Date.now();
  t = await startTestPlatform({ clock: () => new Date(start + (Date.now() - start) * SPEED) });
});
afterEach(async () => {
  await t.close();
  expect(t.specProblems).toEqual([]);
});

async function runsOf(api: CmlClient, projectId: string, jobId: string) {
  return listAll(
    (page_token) =>
      api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs", {
        params: { path: { project_id: projectId, job_id: jobId }, query: { page_token } },
      }),
    (page) => page.job_runs,
  );
}

async function createJob(api: CmlClient, projectId: string, body: Record<string, unknown>) {
  return unwrap(
    api.POST("/api/v2/projects/{project_id}/jobs", {
      params: { path: { project_id: projectId } },
      body: { runtime_identifier: PYTHON, script: "tick.py", ...body },
    }),
  );
}

describe("cron schedules (pure)", () => {
  it("computes the next time in the job's timezone, CML's default being America/Los_Angeles", () => {
    const after = new Date("2026-12-04T18:00:00Z");
    // 09:00 in Los Angeles in December is 17:00 UTC (PST, UTC-8); today's has passed, so tomorrow's.
    expect(nextFireTime("0 9 * * *", "", after).toISOString()).toBe("2026-12-05T17:00:00.000Z");
    expect(nextFireTime("0 9 * * *", "UTC", after).toISOString()).toBe("2026-12-05T09:00:00.000Z");
    expect(nextFireTime("*/15 * * * *", "UTC", after).toISOString()).toBe("2026-12-04T18:15:00.000Z");
  });

  it("names what is wrong with a schedule CML would not take", () => {
    expect(scheduleProblem("0 9 * * 1-5", "America/Los_Angeles")).toBeUndefined();
    expect(scheduleProblem("*/5 * * * * *", "")).toMatch(/must have five fields/);
    expect(scheduleProblem("61 * * * *", "")).toMatch(/schedule '61 \* \* \* \*' .* is not valid/);
    expect(scheduleProblem("0 9 * * *", "Nowhere/Atlantis")).toMatch(/Nowhere\/Atlantis/);
  });
});

describe("cron jobs on the local platform", () => {
  it("runs a scheduled job at its times, and no more once the schedule is cleared", async () => {
    const projectId = await readyProject(t.api, "cron");
    await upload(t.api, projectId, { "tick.py": "print('tick')\n" });
    const job = await createJob(t.api, projectId, { name: "every-2-min", schedule: "*/2 * * * *", timezone: "UTC" });
    expect(job.type).toBe("cron");
    const jobId = job.id ?? "";
    // Every 2 schedule minutes = every 2 s here: at least two runs, each started by the schedule alone.
    const runs = await waitFor(() => runsOf(t.api, projectId, jobId), {
      what: "two scheduled runs to succeed",
      status: (list) => `${list.filter((r) => r.status === "ENGINE_SUCCEEDED").length} succeeded`,
      until: (list) => list.filter((r) => r.status === "ENGINE_SUCCEEDED").length >= 2,
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    console.log(`scheduled runs seen: ${runs.length}`);

    const cleared = await unwrap(
      t.api.PATCH("/api/v2/projects/{project_id}/jobs/{job.id}", {
        params: { path: { project_id: projectId, "job.id": jobId } },
        body: { schedule: "" },
      }),
    );
    expect(cleared.type).toBe("manual");
    const settled = await waitFor(() => runsOf(t.api, projectId, jobId), {
      what: "the last scheduled run to end",
      status: (list) => list.map((r) => r.status).join(","),
      until: (list) => list.every((r) => r.status === "ENGINE_SUCCEEDED" || r.status === "ENGINE_FAILED"),
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    // 5 s is 5 schedule minutes: two or three times the old schedule would have fired.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect((await runsOf(t.api, projectId, jobId)).length).toBe(settled.length);
  }, 60_000);

  it("does not run a paused job, and refuses a schedule it cannot parse with 400", async () => {
    const projectId = await readyProject(t.api, "paused");
    await upload(t.api, projectId, { "tick.py": "print('tick')\n" });
    const paused = await createJob(t.api, projectId, { name: "paused", schedule: "* * * * *", paused: true });
    expect(paused.timezone).toBe("America/Los_Angeles");
    const bad = await t.api.POST("/api/v2/projects/{project_id}/jobs", {
      params: { path: { project_id: projectId } },
      body: { runtime_identifier: PYTHON, script: "tick.py", name: "bad", schedule: "every day" },
    });
    expect(bad.response.status).toBe(400);
    expect(JSON.stringify(bad.error)).toMatch(/five fields/);
    const manual = await createJob(t.api, projectId, { name: "manual" });
    const patched = await t.api
      .PATCH("/api/v2/projects/{project_id}/jobs/{job.id}", {
        params: { path: { project_id: projectId, "job.id": manual.id ?? "" } },
        body: { schedule: "0 25 * * *" },
      })
      .then(
        (r) => r.response.status,
        (error: unknown) => (isApiError(error) ? error.status : 0),
      );
    expect(patched).toBe(400);
    // 4 s is 4 schedule minutes: the paused every-minute job would have fired 3 or 4 times.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(await runsOf(t.api, projectId, paused.id ?? "")).toEqual([]);
  }, 30_000);
});
