// Type-level tests (house style P14): the generated types must reject wrong requests at compile time.
// Each @ts-expect-error fails the typecheck if the line below it ever starts compiling.
import { describe, expectTypeOf, it } from "vitest";
import { type CmlClient, createCmlClient, type Schemas, unwrap } from "../../src/client/index.js";

const api: CmlClient = createCmlClient({ baseUrl: "https://x", apiKey: "k" });
const path = { project_id: "p111-p222-p333-p444" };

describe("generated client types", () => {
  it("rejects a wrong path parameter", () => {
    // @ts-expect-error: the jobs list needs project_id, not projectId
    void api.GET("/api/v2/projects/{project_id}/jobs", { params: { path: { projectId: "x" } } });
    const jobIdUnderscore = { ...path, job_id: "j" };
    const patchPath = "/api/v2/projects/{project_id}/jobs/{job.id}";
    // @ts-expect-error: the dotted PATCH path names its parameter "job.id"
    void api.PATCH(patchPath, { params: { path: jobIdUnderscore }, body: {} });
    // @ts-expect-error: no such path in the spec
    void api.GET("/api/v2/projects/{project_id}/jobz", { params: { path } });
  });

  it("rejects a wrong request body", () => {
    const jobsPath = "/api/v2/projects/{project_id}/jobs";
    // @ts-expect-error: cpu is a number, not a string
    void api.POST(jobsPath, { params: { path }, body: { name: "j", cpu: "2" } });
    const patchPath = "/api/v2/projects/{project_id}/jobs/{job.id}";
    const params = { path: { ...path, "job.id": "j" } };
    const mapEnvironment = { environment: { A: "1" } };
    // @ts-expect-error: on PATCH bodies environment is a JSON string, not a map (openapi/FACTS.md §4)
    void api.PATCH(patchPath, { params, body: mapEnvironment });
  });

  it("types environment as a map on create and a string on responses, and int64 as string", () => {
    expectTypeOf<Schemas["CreateJobRequest"]["environment"]>().toEqualTypeOf<Record<string, string> | undefined>();
    expectTypeOf<Schemas["Job"]["environment"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Schemas["Job"]["timeout"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Schemas["CreateJobRequest"]["timeout"]>().toEqualTypeOf<number | undefined>();
  });

  it("unwrap returns the operation's success body", () => {
    const job = unwrap(
      api.GET("/api/v2/projects/{project_id}/jobs/{job_id}", { params: { path: { ...path, job_id: "j" } } }),
    );
    expectTypeOf(job).resolves.toEqualTypeOf<Schemas["Job"]>();
  });
});
