/**
 * Contract test: the full `deploy apply manifests/lab.yaml --target workspace` against a workspace URL served
 * through msw. The handler forwards to a local platform (which validates every body against the spec, so an
 * object `environment` on PATCH is a 400, files are renamed instead of overwritten, and search_filter matches
 * case-sensitive substrings) and adds the quirks it does not model (openapi/FACTS.md §6: runtime add-ons without their
 * runtime on PATCH → 500). Every request is recorded so the test can assert what the engine sent.
 */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bypass, HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { findOneByName, listAll, listProjectDir, unwrap } from "../../src/client/index.js";
import { main } from "../../src/deploy/main.js";
import type { CliIo } from "../../src/shared/io.js";
import { NODE, readyProject, startTestPlatform, type TestPlatform } from "../local/helpers.js";
import { responseViolations } from "../spec-check.js";

const WORKSPACE = "https://ml-contract.example.test";
const root = join(import.meta.dirname, "../..");
const PROJECT = "LLM Hands-on Lab";
interface Recorded {
  method: string;
  path: string;
  body: string;
}
const requests: Recorded[] = [];
const lockDir = mkdtempSync(join(tmpdir(), "cml-lab-contract-locks-"));
let t: TestPlatform;
let decoyProjectId = "";

const server = setupServer(
  http.all(`${WORKSPACE}/*`, async ({ request }) => {
    const url = new URL(request.url);
    const raw = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
    const body = raw ? new TextDecoder().decode(raw) : "";
    requests.push({ method: request.method, path: decodeURIComponent(url.pathname), body });
    if (request.method === "PATCH" && body.startsWith("{")) {
      const json = JSON.parse(body) as Record<string, unknown>;
      if ("runtime_addon_identifiers" in json && !("runtime_identifier" in json))
        return HttpResponse.json({ code: 13, message: "runtime addons without runtime" }, { status: 500 });
    }
    const forwarded = bypass(`${t.platform.apiUrl}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      ...(raw ? { body: raw } : {}),
    });
    const response = await tamper(request.method, url.pathname, await fetch(forwarded));
    specProblems.push(...(await responseViolations(request.method, request.url, response)));
    return response;
  }),
);
/** Every way a response the engine saw broke the spec (checked by each test). */
const specProblems: string[] = [];
/** Lets a test break a response on its way to the engine, to prove the check above catches it. */
const untouched = async (_method: string, _path: string, response: Response) => response;
let tamper = untouched;

async function deploy(argv: string[], vars: string[] = []) {
  let out = "";
  const io: CliIo = {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      out += s;
    },
    isTTY: false,
    // Its own same-machine lock directory: another run of this suite (another checkout) uses the same workspace URL.
    env: {
      CML_API_URL: WORKSPACE,
      CML_API_KEY: t.platform.apiKey,
      PATH: process.env.PATH ?? "",
      CML_LAB_LOCK_DIR: lockDir,
    },
    cwd: root,
  };
  const code = await main([...argv, "manifests/lab.yaml", "--target", "workspace", ...vars], io);
  expect(out).not.toContain(t.platform.apiKey);
  return { code, out };
}

// DownloadProjectFile is a POST in CML's API but changes nothing.
const mutations = (since: number) =>
  requests.slice(since).filter((r) => r.method !== "GET" && !r.path.endsWith(":download"));

beforeAll(async () => {
  t = await startTestPlatform();
  server.listen({ onUnhandledRequest: "bypass" });
  // Decoys that a substring search_filter also returns: the engine must match exactly and leave them alone.
  decoyProjectId = await readyProject(t.api, `${PROJECT}-old`);
  await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/files", {
      params: { path: { project_id: decoyProjectId } },
      body: {},
      bodySerializer: () => {
        const form = new FormData();
        form.append("app.py", new Blob(["print(1)\n"]), "app.py");
        return form;
      },
    }),
  );
  await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/applications", {
      params: { path: { project_id: decoyProjectId } },
      body: { name: "chat", subdomain: "llm-hol-2", script: "app.py", runtime_identifier: NODE },
    }),
  );
}, 60_000);
afterAll(async () => {
  server.close();
  await t.close();
});
afterEach(() => {
  expect(specProblems.splice(0)).toEqual([]);
  expect(t.specProblems.splice(0)).toEqual([]);
});

describe("deploy apply of lab.yaml against a workspace with CML's quirks", () => {
  let chatId = "";
  let projectId = "";

  it("creates exactly the manifest's objects, dependent jobs by parent_id, with no renamed duplicate files", async () => {
    const applied = await deploy(["apply"]);
    expect(applied.code, applied.out).toBe(0);
    const project = await findOneByName(t.api, "project", { name: PROJECT });
    projectId = project?.id ?? "";
    expect(projectId).not.toBe("");
    const jobs = await listAll(
      (page_token) =>
        t.api.GET("/api/v2/projects/{project_id}/jobs", {
          params: { path: { project_id: projectId }, query: { page_token } },
        }),
      (page) => page.jobs,
    );
    const byName = new Map(jobs.map((j) => [j.name, j]));
    expect([...byName.keys()].sort()).toEqual(["ask", "populate-chroma", "scrape"]);
    expect(byName.get("populate-chroma")?.parent_id).toBe(byName.get("scrape")?.id);
    expect(byName.get("ask")?.parent_id).toBe(byName.get("populate-chroma")?.id);
    const apps = await listAll(
      (page_token) =>
        t.api.GET("/api/v2/projects/{project_id}/applications", {
          params: { path: { project_id: projectId }, query: { page_token } },
        }),
      (page) => page.applications,
    );
    expect(apps.map((a) => a.subdomain).sort()).toEqual(["llm-hol", "vectordb"]);
    chatId = apps.find((a) => a.subdomain === "llm-hol")?.id ?? "";
    for (const dir of ["/", "launchers", "samples/python-docs/tutorial"]) {
      const names = (await listProjectDir(t.api, projectId, dir)).map((f) => f.path ?? "");
      expect(
        names.filter((n) => n.includes("(1)")),
        dir,
      ).toEqual([]);
    }
    // Create bodies carry environment as a map; every PATCH the engine sent carried it as a JSON string.
    for (const r of requests.filter((x) => x.method === "PATCH" && x.body.includes('"environment"')))
      expect(typeof (JSON.parse(r.body) as { environment: unknown }).environment).toBe("string");
    expect(requests.filter((r) => r.method !== "GET" && r.path.includes(decoyProjectId))).toEqual([]);
  }, 120_000);

  it("plans nothing the second time; planning and a no-op apply send no change", async () => {
    const since = requests.length;
    const planned = await deploy(["plan", "--detailed-exitcode"]);
    expect(planned.code, planned.out).toBe(0);
    expect(planned.out).toContain("0 to create, 0 to update, 0 to recreate, 0 to delete");
    // A no-op apply is reads only: it takes no lock because it changes nothing.
    const applied = await deploy(["apply"]);
    expect(applied.code, applied.out).toBe(0);
    expect(applied.out).toContain("Nothing to do.");
    expect(mutations(since)).toEqual([]);
  }, 60_000);

  it("one changed variable is one PATCH of the chat app (environment as a JSON string) and one restart", async () => {
    const since = requests.length;
    const applied = await deploy(["apply"], ["--var", "pinecone_index=other-index"]);
    expect(applied.code, applied.out).toBe(0);
    const touched = mutations(since).filter((r) => r.path.includes("/applications/") || r.path.includes("/jobs"));
    expect(touched.map((r) => `${r.method} ${r.path.replace(projectId, "P").replace(chatId, "CHAT")}`)).toEqual([
      "PATCH /api/v2/projects/P/applications/CHAT",
      "POST /api/v2/projects/P/applications/CHAT:restart",
    ]);
    const environment = (JSON.parse(touched[0]?.body ?? "{}") as { environment?: unknown }).environment;
    expect(typeof environment).toBe("string");
    expect(JSON.parse(String(environment)).CML_LAB_PINECONE_INDEX).toBe("other-index");
  }, 90_000);

  it('the spec check sees a response that breaks the spec (an unset timestamp sent as "")', async () => {
    // The engine reads applications by listing them: blank every listed application's stopped_at.
    tamper = async (method, path, response) => {
      if (method !== "GET" || !path.endsWith("/applications") || response.status !== 200) return response;
      const body = (await response.json()) as { applications?: Record<string, unknown>[] };
      const applications = (body.applications ?? []).map((app) => ({ ...app, stopped_at: "" }));
      return Response.json({ ...body, applications });
    };
    try {
      const planned = await deploy(["plan"]);
      expect(planned.code, planned.out).toBe(0);
    } finally {
      tamper = untouched;
    }
    const seen = specProblems.splice(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(
      new Set(
        [0, 1].map((i) => `ListApplications 200: response.applications.${i}.stopped_at: must match format "date-time"`),
      ),
    );
  }, 60_000);

  it("destroy removes the stack and leaves the decoys; a second destroy does nothing", async () => {
    const destroyed = await deploy(["destroy", "--auto-approve"]);
    expect(destroyed.code, destroyed.out).toBe(0);
    expect(await findOneByName(t.api, "project", { name: PROJECT })).toBeUndefined();
    expect((await findOneByName(t.api, "project", { name: `${PROJECT}-old` }))?.id).toBe(decoyProjectId);
    const again = await deploy(["destroy", "--auto-approve"]);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain("Nothing to do.");
  }, 90_000);
});
