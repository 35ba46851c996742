import { lstat, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { downloadProjectFile, isApiError, listAll, unwrap, uploadProjectFile } from "../../src/client/index.js";
import { responseProblems } from "../../src/local/index.js";
import { readyProject, startTestPlatform, type TestPlatform } from "./helpers.js";

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

describe("auth and unimplemented operations", () => {
  it("refuses calls without the Bearer key with 401", async () => {
    const none = await fetch(`${t.platform.apiUrl}/api/v2/projects`);
    expect(none.status).toBe(401);
    const wrong = await fetch(`${t.platform.apiUrl}/api/v2/projects`, { headers: { Authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: 16 });
  });

  it("answers an operation it does not implement with 501 naming the operation", async () => {
    const error = await failure(
      unwrap(
        t.api.GET("/api/v2/projects/{project_id}/experiments", {
          params: { path: { project_id: "abcd-abcd-abcd-abcd" } },
        }),
      ),
    );
    expect(error.status).toBe(501);
    expect(error.serverMessage).toContain("ListExperiments");
  });
});

describe("projects", () => {
  it("creates a project that passes through creating to success", async () => {
    const created = await unwrap(t.api.POST("/api/v2/projects", { body: { name: "Lab", template: "blank" } }));
    expect(created.creation_status).toBe("creating");
    expect(created.id).toMatch(/^(?:[a-z0-9]{4}-){3}[a-z0-9]{4}$/);
    const id = await readyProject(t.api, "Lab2");
    const got = await unwrap(t.api.GET("/api/v2/projects/{project_id}", { params: { path: { project_id: id } } }));
    expect(got).toMatchObject({ name: "Lab2", creation_status: "success", slug: "lab2" });
  });

  it("lists with case-sensitive substring search_filter and pages with page_token", async () => {
    for (const name of ["DS", "DSE", "dse", "other"]) await unwrap(t.api.POST("/api/v2/projects", { body: { name } }));
    const found = await unwrap(
      t.api.GET("/api/v2/projects", { params: { query: { search_filter: JSON.stringify({ name: "DS" }) } } }),
    );
    expect(found.projects?.map((p) => p.name).sort()).toEqual(["DS", "DSE"]);
    const first = await unwrap(t.api.GET("/api/v2/projects", { params: { query: { page_size: 3 } } }));
    expect(first.projects).toHaveLength(3);
    expect(first.next_page_token).not.toBe("");
    const all = await listAll(
      (page_token) => t.api.GET("/api/v2/projects", { params: { query: { page_size: 3, page_token } } }),
      (page) => page.projects,
    );
    expect(all.map((p) => p.name).sort()).toEqual(["DS", "DSE", "dse", "other"]);
  });

  it("validates request bodies against the spec with the field path", async () => {
    const response = await fetch(`${t.platform.apiUrl}/api/v2/projects`, {
      method: "POST",
      headers: { Authorization: `Bearer ${t.platform.apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "x", shared_memory_limit: "lots", environment: ["A"] }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { message: string; code: number };
    expect(body.code).toBe(3);
    expect(body.message).toContain("body.shared_memory_limit");
    expect(body.message).toContain("body.environment");
  });

  it("patches and deletes", async () => {
    const id = await readyProject(t.api);
    const patched = await unwrap(
      t.api.PATCH("/api/v2/projects/{project.id}", {
        params: { path: { "project.id": id } },
        body: { description: "d", environment: JSON.stringify({ A: "1" }) },
      }),
    );
    expect(patched).toMatchObject({ description: "d", environment: '{"A":"1"}', name: "demo" });
    await unwrap(t.api.DELETE("/api/v2/projects/{project_id}", { params: { path: { project_id: id } } }));
    const error = await failure(
      unwrap(t.api.GET("/api/v2/projects/{project_id}", { params: { path: { project_id: id } } })),
    );
    expect(error.status).toBe(404);
  });
});

describe("files", () => {
  it("uploads without overwriting, lists basenames, downloads and deletes", async () => {
    const id = await readyProject(t.api);
    await uploadProjectFile(t.api, id, "src/a.py", "one");
    await uploadProjectFile(t.api, id, "src/a.py", "two");
    const listed = await unwrap(
      t.api.GET("/api/v2/projects/{project_id}/files/{path}", { params: { path: { project_id: id, path: "src" } } }),
    );
    expect(listed.files?.map((f) => [f.path, f.is_dir, f.file_size]).sort()).toEqual([
      ["a(1).py", false, "3"],
      ["a.py", false, "3"],
    ]);
    const root = await unwrap(
      t.api.GET("/api/v2/projects/{project_id}/files/{path}", { params: { path: { project_id: id, path: "/" } } }),
    );
    expect(root.files).toEqual([{ path: "src", is_dir: true, file_size: "0" }]);
    expect(new TextDecoder().decode(await downloadProjectFile(t.api, id, "src/a.py"))).toBe("one");
    expect(new TextDecoder().decode(await downloadProjectFile(t.api, id, "src/a(1).py"))).toBe("two");
    await unwrap(
      t.api.DELETE("/api/v2/projects/{project_id}/files/{path}", {
        params: { path: { project_id: id, path: "src/a.py" } },
      }),
    );
    const error = await failure(downloadProjectFile(t.api, id, "src/a.py"));
    expect(error.status).toBe(404);
  });

  it("refuses path traversal: .., absolute paths and symlinks out of the project", async () => {
    const id = await readyProject(t.api);
    const post = (field: string) => {
      const form = new FormData();
      form.append(field, new Blob(["x"]), "x");
      return fetch(`${t.platform.apiUrl}/api/v2/projects/${id}/files`, {
        method: "POST",
        headers: { Authorization: `Bearer ${t.platform.apiKey}` },
        body: form,
      });
    };
    expect((await post("../escape.txt")).status).toBe(400);
    expect((await post("/etc/escape.txt")).status).toBe(400);
    expect((await post("a/../../escape.txt")).status).toBe(400);
    const projectDir = join(t.dataDir, "projects", id);
    await symlink(t.dataDir, join(projectDir, "out"));
    expect((await post("out/escape.txt")).status).toBe(400);
    await expect(lstat(join(t.dataDir, "escape.txt"))).rejects.toThrow();
    const download = await fetch(`${t.platform.apiUrl}/api/v2/projects/${id}/files/out%2Fstate.json:download`, {
      method: "POST",
      headers: { Authorization: `Bearer ${t.platform.apiKey}` },
    });
    expect(download.status).toBe(400);
    const dotdot = await fetch(`${t.platform.apiUrl}/api/v2/projects/${id}/files/..%2Fapi-key:download`, {
      method: "POST",
      headers: { Authorization: `Bearer ${t.platform.apiKey}` },
    });
    expect(dotdot.status).toBe(400);
  });
});

describe("response validation", () => {
  it("detects a response that does not match the spec (so the per-test check can fail)", () => {
    expect(responseProblems("GetJob", { timeout: 5, name: "j" })).toEqual(["response.timeout: must be string"]);
    expect(responseProblems("GetJob", { timeout: "5", name: "j" })).toEqual([]);
  });

  it("checks formats: an empty or malformed date-time is a violation, an ISO one is not", () => {
    expect(responseProblems("GetApplication", { stopped_at: "" })).toEqual([
      'response.stopped_at: must match format "date-time"',
    ]);
    expect(responseProblems("GetModelBuild", { built_at: "yesterday" })).toEqual([
      'response.built_at: must match format "date-time"',
    ]);
    expect(responseProblems("GetApplication", { stopped_at: "2026-12-04T18:00:00.000Z" })).toEqual([]);
  });

  it("leaves out the empty timestamps an older state file holds, so a restarted platform still answers per spec", async () => {
    const projectId = await readyProject(t.api, "old-state");
    await t.platform.close();
    const file = join(t.dataDir, "state.json");
    const state = JSON.parse(await readFile(file, "utf8")) as { projects: Record<string, Record<string, unknown>> };
    const project = state.projects[projectId];
    if (!project) throw new Error("the project is not in state.json");
    project.updated_at = "";
    await writeFile(file, JSON.stringify(state));
    const again = await startTestPlatform({ dataDir: t.dataDir });
    try {
      const read = await unwrap(
        again.api.GET("/api/v2/projects/{project_id}", { params: { path: { project_id: projectId } } }),
      );
      expect(read.name).toBe("old-state");
      expect("updated_at" in read).toBe(false);
      expect(again.specProblems).toEqual([]);
    } finally {
      await again.close();
    }
  });
});

describe("runtimes", () => {
  it("lists the fixed catalogue, filterable", async () => {
    const all = await unwrap(t.api.GET("/api/v2/runtimes"));
    expect(all.runtimes?.map((r) => r.edition)).toEqual(["Standard", "cml-lab Node 20"]);
    const node = await unwrap(
      t.api.GET("/api/v2/runtimes", { params: { query: { search_filter: JSON.stringify({ edition: "Node" }) } } }),
    );
    expect(node.runtimes).toHaveLength(1);
  });
});
