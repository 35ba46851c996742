import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import {
  createCmlClient,
  findApplicationBySubdomain,
  findOneByName,
  listAll,
  paginate,
} from "../../src/client/index.js";
import { UserError } from "../../src/shared/errors.js";
import { API_KEY, BASE, useMswServer } from "./msw.js";

const server = useMswServer();
const api = createCmlClient({ baseUrl: BASE, apiKey: API_KEY, retry: false });
const PID = "p111-p222-p333-p444";

describe("paginate", () => {
  it("follows next_page_token across 3 pages, re-sending page_size, search_filter and sort", async () => {
    const queries: string[] = [];
    const pages: Record<string, { jobs: { name: string }[]; next_page_token: string }> = {
      "": { jobs: [{ name: "a" }, { name: "b" }], next_page_token: "t2" },
      t2: { jobs: [{ name: "c" }, { name: "d" }], next_page_token: "t3" },
      t3: { jobs: [{ name: "e" }], next_page_token: "" },
    };
    server.use(
      http.get(`${BASE}/api/v2/projects/:pid/jobs`, ({ request }) => {
        const url = new URL(request.url);
        queries.push(
          `${url.searchParams.get("page_size")}|${url.searchParams.get("search_filter")}|${url.searchParams.get("sort")}`,
        );
        return HttpResponse.json(pages[url.searchParams.get("page_token") ?? ""]);
      }),
    );
    const names: string[] = [];
    for await (const job of paginate(
      (page_token) =>
        api.GET("/api/v2/projects/{project_id}/jobs", {
          params: {
            path: { project_id: PID },
            query: { page_size: 2, search_filter: '{"name":"x"}', sort: "-name", page_token },
          },
        }),
      (page) => page.jobs,
    )) {
      names.push(job.name ?? "");
    }
    expect(names).toEqual(["a", "b", "c", "d", "e"]);
    expect(queries).toEqual(Array(3).fill('2|{"name":"x"}|-name'));
  });

  it("stops when a server repeats a token instead of looping forever", async () => {
    let calls = 0;
    server.use(
      http.get(`${BASE}/api/v2/projects`, () => {
        calls++;
        return HttpResponse.json({ projects: [{ name: `p${calls}` }], next_page_token: "same" });
      }),
    );
    const all = await listAll(
      (page_token) => api.GET("/api/v2/projects", { params: { query: { page_token } } }),
      (p) => p.projects,
    );
    expect(all.map((p) => p.name)).toEqual(["p1", "p2"]);
  });
});

describe("findOneByName", () => {
  const apps = [
    { id: "a1", name: "chat", subdomain: "chat-2" },
    { id: "a2", name: "chat-2", subdomain: "chat" },
    { id: "a3", name: "Chat", subdomain: "other" },
  ];
  const substringServer = () =>
    server.use(
      http.get(`${BASE}/api/v2/projects/:pid/applications`, ({ request }) => {
        // Like CML: case-sensitive substring match on every key of the JSON filter.
        const filter: Record<string, string> = JSON.parse(
          new URL(request.url).searchParams.get("search_filter") ?? "{}",
        );
        const hits = apps.filter((a) =>
          Object.entries(filter).every(([k, v]) => String(a[k as keyof typeof a]).includes(v)),
        );
        return HttpResponse.json({ applications: hits, next_page_token: "" });
      }),
    );

  it("matches the exact name among substring hits", async () => {
    substringServer();
    expect((await findOneByName(api, "application", { projectId: PID, name: "chat" }))?.id).toBe("a1");
    expect((await findOneByName(api, "application", { projectId: PID, name: "chat-2" }))?.id).toBe("a2");
    expect(await findOneByName(api, "application", { projectId: PID, name: "cha" })).toBeUndefined();
    expect((await findApplicationBySubdomain(api, PID, "chat"))?.id).toBe("a2");
  });

  it("refuses to guess when two objects share the exact name", async () => {
    server.use(
      http.get(`${BASE}/api/v2/projects`, () =>
        HttpResponse.json({
          projects: [
            { id: "x", name: "lab" },
            { id: "y", name: "lab" },
          ],
          next_page_token: "",
        }),
      ),
    );
    const error = await findOneByName(api, "project", { name: "lab" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(String(error)).toContain('2 projects are named "lab" (ids x, y)');
  });
});
