/**
 * A small stateful fake of the CML v2 API for contract tests: only the operations `deploy` uses, each enforcing
 * the real API's quirks from openapi/FACTS.md, so an engine that forgets one fails here
 * instead of on a workspace. It is deliberately strict: anything it does not implement answers 501 with the
 * operation's method and path, so a gap is visible rather than silently "working".
 */
import { HttpResponse, http } from "msw";
import { responseViolations } from "../spec-check.js";

export const RUNTIME_ID = "docker.repository.cloudera.com/cml-lab/pbj-py311-node20:2025.09.1-b5";
const ADDON_ID = "hadoop-cli-7.2.18";

export interface RecordedRequest {
  method: string;
  /** Decoded path below /api/v2, e.g. `/projects/p1/applications/a2:restart`. */
  path: string;
  body: unknown;
}

type Json = Record<string, unknown>;

interface Project {
  id: string;
  name: string;
  description: string;
  environment: Record<string, string>;
  /** GETs left before creation_status turns "success". */
  pendingPolls: number;
  files: Map<string, Uint8Array>;
}
interface Workload {
  id: string;
  project_id: string;
  fields: Json;
  environment: Record<string, string>;
  runtime_identifier: string;
  runtime_addon_identifiers: string[];
  /** Applications: GETs left in APPLICATION_STARTING. */
  startingPolls: number;
}
interface Model {
  id: string;
  project_id: string;
  name: string;
  description: string;
  access_key: string;
  auth_enabled: boolean;
  builds: Build[];
}
interface Build {
  id: string;
  fields: Json;
  polls: number;
  created_at: string;
  deployments: Deployment[];
}
interface Deployment {
  id: string;
  fields: Json;
  polls: number;
  created_at: string;
  status: string;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function fail(status: number, message: string): never {
  throw new ApiError(status, message);
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Create bodies take `environment` as a map (proto map<string,string>); values must be strings. */
function envFromCreate(v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (!isObject(v)) fail(400, "proto: syntax error: environment must be an object on create");
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== "string") fail(400, `proto: environment.${k}: string expected`);
    out[k] = value;
  }
  return out;
}

/** PATCH bodies take `environment` as a JSON-encoded string (the message field is a string): an object is 400. */
function envFromPatch(v: unknown): Record<string, string> {
  if (typeof v !== "string") fail(400, "proto: syntax error (line 1:1): invalid value for string field environment");
  const parsed: unknown = JSON.parse(v);
  if (!isObject(parsed)) fail(400, "environment must encode a JSON object");
  return envFromCreate(parsed);
}

/** `search_filter` is a JSON object string; every key matches by case-sensitive substring (openapi/FACTS.md §4). */
function matchesFilter(filter: string | null, fields: Json): boolean {
  if (!filter) return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(filter);
  } catch {
    fail(400, "search_filter: invalid JSON");
  }
  if (!isObject(parsed)) fail(400, "search_filter must be a JSON object");
  return Object.entries(parsed).every(([k, v]) => String(fields[k] ?? "").includes(String(v)));
}

function now(seq: number): string {
  return new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
}

/** `a.py` → `a(1).py`, `a(2).py`, …: what CML does instead of overwriting. */
function renamedPath(path: string, taken: (p: string) => boolean): string {
  const slash = path.lastIndexOf("/");
  const dir = path.slice(0, slash + 1);
  const base = path.slice(slash + 1);
  const dot = base.lastIndexOf(".");
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const ext = dot > 0 ? base.slice(dot) : "";
  for (let n = 1; ; n++) {
    const candidate = `${dir}${stem}(${n})${ext}`;
    if (!taken(candidate)) return candidate;
  }
}

export function createFakeCml(options: { baseUrl: string; apiKey: string }) {
  const projects = new Map<string, Project>();
  const jobs = new Map<string, Workload>();
  const apps = new Map<string, Workload>();
  const models = new Map<string, Model>();
  const requests: RecordedRequest[] = [];
  const runtime = (version: string) => ({
    image_identifier: version === "2025.09.1-b5" ? RUNTIME_ID : `${RUNTIME_ID.split(":")[0]}:${version}`,
    editor: "PBJ Workbench",
    kernel: "Python 3.11",
    edition: "cml-lab Node 20",
    full_version: version,
    status: "ENABLED",
  });
  const runtimes = [runtime("2025.09.1-b5")];
  let seq = 0;
  const nextId = (prefix: string) => `${prefix}-${(++seq).toString(36).padStart(4, "0")}`;

  const project = (id: string | undefined): Project => projects.get(id ?? "") ?? fail(404, `project ${id} not found`);

  const projectView = (p: Project): Json => ({
    id: p.id,
    name: p.name,
    description: p.description,
    environment: JSON.stringify(p.environment),
    creation_status: p.pendingPolls > 0 ? "creating" : "success",
    owner: { username: "alice" },
  });
  const jobView = (j: Workload): Json => ({
    ...j.fields,
    id: j.id,
    project: { id: j.project_id },
    environment: JSON.stringify(j.environment),
    runtime_identifier: j.runtime_identifier,
    runtime_addon_identifiers: j.runtime_addon_identifiers,
    // int64 on the wire is a string (proto JSON mapping).
    timeout: String(j.fields.timeout ?? 0),
  });
  const appView = (a: Workload): Json => ({
    ...a.fields,
    id: a.id,
    project: { id: a.project_id },
    environment: JSON.stringify(a.environment),
    runtime_identifier: a.runtime_identifier,
    runtime_addon_identifiers: a.runtime_addon_identifiers,
    status: a.startingPolls > 0 ? "APPLICATION_STARTING" : "APPLICATION_RUNNING",
  });
  const modelView = (m: Model): Json => ({
    id: m.id,
    project: { id: m.project_id },
    name: m.name,
    description: m.description,
    access_key: m.access_key,
    auth_enabled: m.auth_enabled,
    crn: `crn:cdp:ml:us-west-1:tenant:workspace:ws/${m.id}`,
  });
  const buildView = (b: Build): Json => ({
    ...b.fields,
    id: b.id,
    created_at: b.created_at,
    status: b.polls > 1 ? "pending" : b.polls > 0 ? "building" : "built",
  });
  const deploymentView = (d: Deployment): Json => ({
    ...d.fields,
    id: d.id,
    created_at: d.created_at,
    status: d.status !== "deploying" ? d.status : d.polls > 0 ? "deploying" : "deployed",
  });

  function requireScript(p: Project, script: unknown) {
    if (typeof script !== "string" || !p.files.has(script)) fail(400, `script ${String(script)} does not exist`);
  }
  function requireRuntime(body: Json) {
    if (!runtimes.some((r) => r.image_identifier === body.runtime_identifier))
      fail(400, `runtime ${String(body.runtime_identifier)} not found`);
    const addons = body.runtime_addon_identifiers;
    if (addons !== undefined && (!Array.isArray(addons) || addons.some((a) => a !== ADDON_ID)))
      fail(400, "unknown runtime addon");
  }

  /** Runtime pairs on PATCH: add-ons alone → 500; runtime alone silently resets the add-ons. */
  function patchRuntime(w: Workload, body: Json) {
    const hasRuntime = "runtime_identifier" in body;
    const hasAddons = "runtime_addon_identifiers" in body;
    if (hasAddons && !hasRuntime) fail(500, "runtime addons cannot be updated without the runtime identifier");
    if (!hasRuntime) return;
    requireRuntime(body);
    w.runtime_identifier = String(body.runtime_identifier);
    w.runtime_addon_identifiers = Array.isArray(body.runtime_addon_identifiers)
      ? body.runtime_addon_identifiers.map(String)
      : [];
  }

  function createWorkload(p: Project, body: Json, kind: "job" | "app"): Workload {
    requireScript(p, body.script);
    requireRuntime(body);
    const { environment, runtime_identifier, runtime_addon_identifiers, ...fields } = body;
    return {
      id: nextId(kind),
      project_id: p.id,
      fields,
      environment: envFromCreate(environment),
      runtime_identifier: String(runtime_identifier),
      runtime_addon_identifiers: Array.isArray(runtime_addon_identifiers) ? runtime_addon_identifiers.map(String) : [],
      startingPolls: kind === "app" ? 2 : 0,
    };
  }

  function patchWorkload(p: Project, w: Workload, body: Json) {
    if ("environment" in body) w.environment = envFromPatch(body.environment);
    if ("script" in body) requireScript(p, body.script);
    patchRuntime(w, body);
    const {
      environment: _e,
      runtime_identifier: _r,
      runtime_addon_identifiers: _a,
      paused: _p,
      id: _i,
      ...rest
    } = body;
    // `paused` is ignored by UpdateJob (openapi/FACTS.md §4).
    Object.assign(w.fields, rest);
  }

  function listFiles(p: Project, dir: string): Json[] {
    const prefix = dir === "/" ? "" : `${dir.replace(/\/$/, "")}/`;
    const entries = new Map<string, Json>();
    for (const [path, bytes] of p.files) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const [head, ...more] = rest.split("/");
      if (!head) continue;
      entries.set(
        head,
        more.length > 0
          ? { path: head, is_dir: true }
          : { path: head, is_dir: false, file_size: String(bytes.byteLength) },
      );
    }
    if (prefix && entries.size === 0) fail(404, `${dir}: no such directory`);
    return [...entries.values()];
  }

  async function route(method: string, segs: string[], url: URL, request: Request): Promise<unknown> {
    const key = `${method} /${segs.map((s, i) => (i % 2 === 1 && segs[i - 1] !== "files" ? ":id" : s)).join("/")}`;
    const body = async (): Promise<Json> => {
      const parsed: unknown = await request.json();
      if (!isObject(parsed)) fail(400, "body must be a JSON object");
      return parsed;
    };
    const filter = url.searchParams.get("search_filter");
    const [top, pid, kind, id, sub, subId, sub2, sub2Id] = segs;

    if (key === "GET /runtimes") return { runtimes, next_page_token: "" };
    if (top !== "projects") fail(501, `${method} /api/v2/${segs.join("/")} is not implemented by the fake`);

    if (segs.length === 1 && method === "GET")
      return {
        projects: [...projects.values()].map(projectView).filter((p) => matchesFilter(filter, p)),
        next_page_token: "",
      };
    if (segs.length === 1 && method === "POST") {
      const b = await body();
      const name = String(b.name ?? "");
      if ([...projects.values()].some((p) => p.name === name)) fail(400, `project ${name} already exists`);
      const p: Project = {
        id: nextId("proj"),
        name,
        description: String(b.description ?? ""),
        environment: envFromCreate(b.environment),
        pendingPolls: 2,
        files: new Map(),
      };
      projects.set(p.id, p);
      return projectView(p);
    }
    const p = project(pid);
    if (segs.length === 2) {
      if (method === "GET") {
        const view = projectView(p);
        if (p.pendingPolls > 0) p.pendingPolls--;
        return view;
      }
      if (method === "PATCH") {
        const b = await body();
        if ("environment" in b) p.environment = envFromPatch(b.environment);
        if (typeof b.description === "string") p.description = b.description;
        return projectView(p);
      }
      if (method === "DELETE") {
        projects.delete(p.id);
        for (const m of [jobs, apps]) for (const [k, w] of m) if (w.project_id === p.id) m.delete(k);
        for (const [k, m] of models) if (m.project_id === p.id) models.delete(k);
        return {};
      }
    }

    if (kind === "files") {
      const rest = segs.slice(3).join("/");
      if (method === "POST" && segs.length === 3) {
        const form = await request.formData();
        for (const [field, value] of form.entries()) {
          if (typeof value === "string") fail(400, "upload fields must be files");
          // The field NAME is the destination; an existing file is never overwritten (openapi/FACTS.md §5).
          const target = p.files.has(field) ? renamedPath(field, (c) => p.files.has(c)) : field;
          p.files.set(target, new Uint8Array(await value.arrayBuffer()));
        }
        return {};
      }
      if (method === "POST" && rest.endsWith(":download")) {
        const path = rest.slice(0, -":download".length);
        return { raw: p.files.get(path) ?? fail(404, `${path}: no such file`) };
      }
      if (method === "GET") return { files: listFiles(p, rest) };
      if (method === "DELETE") {
        const removed = [...p.files.keys()].filter((f) => f === rest || f.startsWith(`${rest}/`));
        if (removed.length === 0) fail(404, `${rest}: no such file`);
        for (const f of removed) p.files.delete(f);
        return {};
      }
    }

    if (kind === "jobs") {
      const own = [...jobs.values()].filter((j) => j.project_id === p.id);
      if (segs.length === 3 && method === "GET")
        return { jobs: own.map(jobView).filter((j) => matchesFilter(filter, j)), next_page_token: "" };
      if (segs.length === 3 && method === "POST") {
        const b = await body();
        if (b.parent_id !== undefined && !own.some((j) => j.id === b.parent_id))
          fail(400, `parent job ${String(b.parent_id)} not found`);
        const j = createWorkload(p, b, "job");
        jobs.set(j.id, j);
        return jobView(j);
      }
      const j = own.find((x) => x.id === id) ?? fail(404, `job ${id} not found`);
      if (segs.length === 4 && method === "GET") return jobView(j);
      if (segs.length === 4 && method === "PATCH") {
        patchWorkload(p, j, await body());
        return jobView(j);
      }
      if (segs.length === 4 && method === "DELETE") {
        jobs.delete(j.id);
        return {};
      }
    }

    if (kind === "applications") {
      const own = [...apps.values()].filter((a) => a.project_id === p.id);
      if (segs.length === 3 && method === "GET")
        return { applications: own.map(appView).filter((a) => matchesFilter(filter, a)), next_page_token: "" };
      if (segs.length === 3 && method === "POST") {
        const b = await body();
        // Subdomains are unique across the workspace.
        if ([...apps.values()].some((a) => a.fields.subdomain === b.subdomain))
          fail(400, `subdomain ${String(b.subdomain)} is taken`);
        const a = createWorkload(p, b, "app");
        apps.set(a.id, a);
        // CreateApplication starts it (openapi/FACTS.md §5).
        return appView(a);
      }
      const [appId, verb] = (id ?? "").split(":");
      const a = own.find((x) => x.id === appId) ?? fail(404, `application ${appId} not found`);
      if (segs.length === 4 && method === "GET") {
        const view = appView(a);
        if (a.startingPolls > 0) a.startingPolls--;
        return view;
      }
      if (segs.length === 4 && method === "PATCH" && !verb) {
        patchWorkload(p, a, await body());
        return appView(a);
      }
      if (segs.length === 4 && method === "POST" && verb === "restart") {
        a.startingPolls = 2;
        return {};
      }
      if (segs.length === 4 && method === "DELETE" && !verb) {
        apps.delete(a.id);
        return {};
      }
    }

    if (kind === "models") {
      const own = [...models.values()].filter((m) => m.project_id === p.id);
      if (segs.length === 3 && method === "GET")
        return { models: own.map(modelView).filter((m) => matchesFilter(filter, m)), next_page_token: "" };
      if (segs.length === 3 && method === "POST") {
        const b = await body();
        const m: Model = {
          id: nextId("model"),
          project_id: p.id,
          name: String(b.name ?? ""),
          description: String(b.description ?? ""),
          access_key: `mak${seq}`,
          // UpdateSingleModel cannot change this later (openapi/FACTS.md §6).
          auth_enabled: b.disable_authentication !== true,
          builds: [],
        };
        models.set(m.id, m);
        return modelView(m);
      }
      const m = own.find((x) => x.id === id) ?? fail(404, `model ${id} not found`);
      if (segs.length === 4 && method === "PATCH") {
        const b = await body();
        if (typeof b.description === "string") m.description = b.description;
        return modelView(m);
      }
      if (segs.length === 4 && method === "DELETE") {
        models.delete(m.id);
        return {};
      }
      if (sub === "builds") {
        if (segs.length === 5 && method === "GET")
          return { model_builds: m.builds.map(buildView), next_page_token: "" };
        if (segs.length === 5 && method === "POST") {
          const b = await body();
          if (typeof b.file_path !== "string" || !p.files.has(b.file_path))
            fail(400, `model file ${String(b.file_path)} does not exist`);
          requireRuntime(b);
          const { project_id: _p, model_id: _m, ...fields } = b;
          const build: Build = { id: nextId("build"), fields, polls: 2, created_at: now(seq), deployments: [] };
          m.builds.push(build);
          return buildView(build);
        }
        const build = m.builds.find((x) => x.id === subId) ?? fail(404, `build ${subId} not found`);
        if (segs.length === 6 && method === "GET") {
          const view = buildView(build);
          if (build.polls > 0) build.polls--;
          return view;
        }
        if (sub2 === "deployments") {
          if (segs.length === 7 && method === "GET")
            return { model_deployments: build.deployments.map(deploymentView), next_page_token: "" };
          if (segs.length === 7 && method === "POST") {
            if (buildView(build).status !== "built") fail(400, "build is not built");
            const b = await body();
            const { project_id: _p, model_id: _m, environment, ...fields } = b;
            const d: Deployment = {
              id: nextId("dep"),
              fields: { ...fields, environment: JSON.stringify(envFromCreate(environment)) },
              polls: 2,
              created_at: now(seq),
              status: "deploying",
            };
            build.deployments.push(d);
            return deploymentView(d);
          }
          const [depId, verb] = (sub2Id ?? "").split(":");
          const d = build.deployments.find((x) => x.id === depId) ?? fail(404, `deployment ${depId} not found`);
          if (segs.length === 8 && method === "GET" && !verb) {
            const view = deploymentView(d);
            if (d.polls > 0) d.polls--;
            return view;
          }
          if (segs.length === 8 && method === "POST" && verb === "stop") {
            d.status = "stopped";
            return {};
          }
        }
      }
    }
    fail(501, `${method} /api/v2/${segs.join("/")} is not implemented by the fake`);
  }

  /** Every way one of the fake's own responses broke the spec (test/spec-check.ts); tests assert it stays empty. */
  const specProblems: string[] = [];
  const handler = http.all(`${options.baseUrl}/api/v2/*`, async ({ request }) => {
    const response = await answer(request);
    specProblems.push(...(await responseViolations(request.method, request.url, response)));
    return response;
  });

  async function answer(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const rawPath = url.pathname.slice("/api/v2".length);
    // Segments are decoded one by one, so a file path sent as `a%2Fb.py` stays one segment until `files/` joins it.
    const segs = rawPath.split("/").filter(Boolean).map(decodeURIComponent);
    const contentType = request.headers.get("content-type") ?? "";
    const isJson = contentType.includes("application/json");
    const bodyText = isJson ? await request.clone().text() : undefined;
    let recordedBody: unknown = bodyText;
    try {
      recordedBody = bodyText ? JSON.parse(bodyText) : undefined;
    } catch {}
    // Uploads are recorded by their destination paths (the form field names).
    if (contentType.includes("multipart/form-data"))
      recordedBody = { uploads: [...(await request.clone().formData()).keys()] };
    requests.push({ method: request.method, path: `/${segs.join("/")}${url.search}`, body: recordedBody });
    if (request.headers.get("authorization") !== `Bearer ${options.apiKey}`)
      return HttpResponse.json({ code: 16, message: "unauthenticated" }, { status: 401 });
    try {
      const result = await route(request.method, segs, url, request);
      if (isObject(result) && result.raw instanceof Uint8Array)
        return new HttpResponse(new Uint8Array(result.raw), {
          headers: { "content-type": "application/octet-stream" },
        });
      return HttpResponse.json(result ?? {});
    } catch (error) {
      if (error instanceof ApiError)
        return HttpResponse.json({ code: error.status, message: error.message }, { status: error.status });
      const message = error instanceof Error ? error.message : String(error);
      return HttpResponse.json({ code: 13, message: `fake: ${message}` }, { status: 500 });
    }
  }

  /** An application made by hand (no stack marker), e.g. in the UI. */
  function seedApp(projectId: string, app: { name: string; subdomain: string }): string {
    const p = project(projectId);
    p.files.set("app.py", new TextEncoder().encode("print('hi')\n"));
    const a: Workload = {
      id: nextId("app"),
      project_id: p.id,
      fields: { name: app.name, subdomain: app.subdomain, script: "app.py" },
      environment: {},
      runtime_identifier: RUNTIME_ID,
      runtime_addon_identifiers: [],
      startingPolls: 0,
    };
    apps.set(a.id, a);
    return a.id;
  }

  /** Seeds an object outside any stack: a project, and optionally an application in it. */
  function seedProject(name: string, app?: { name: string; subdomain: string }): string {
    const p: Project = {
      id: nextId("proj"),
      name,
      description: "someone else's",
      environment: { OWNER: "bob" },
      pendingPolls: 0,
      files: new Map([["app.py", new TextEncoder().encode("print('hi')\n")]]),
    };
    projects.set(p.id, p);
    if (app) seedApp(p.id, app);
    return p.id;
  }

  return {
    handler,
    specProblems,
    /** Publishes a newer runtime version; returns its image identifier. */
    addRuntime(version: string): string {
      const r = runtime(version);
      runtimes.push(r);
      return r.image_identifier;
    },
    requests,
    seedProject,
    seedApp,
    projects: () => [...projects.values()],
    jobsOf: (projectId: string) => [...jobs.values()].filter((j) => j.project_id === projectId),
    appsOf: (projectId: string) => [...apps.values()].filter((a) => a.project_id === projectId),
    modelsOf: (projectId: string) => [...models.values()].filter((m) => m.project_id === projectId),
  };
}

export type FakeCml = ReturnType<typeof createFakeCml>;
