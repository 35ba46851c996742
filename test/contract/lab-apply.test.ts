/**
 * Contract test: the full `deploy apply` of manifests/lab.yaml against a fake CML v2 API that enforces the real
 * API's quirks (test/contract/fake-cml.ts). A regression that only the quirks expose fails here.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/deploy/main.js";
import type { CliIo } from "../../src/shared/io.js";
import { createFakeCml, type RecordedRequest } from "./fake-cml.js";

const BASE = "https://ml.example.test";
const API_KEY = "canary0123456789abcdef.contract-key-never-print";
const ROOT = resolve(import.meta.dirname, "../..");
const MANIFEST = resolve(ROOT, "manifests/lab.yaml");
const PROJECT = "LLM Hands-on Lab";

const fake = createFakeCml({ baseUrl: BASE, apiKey: API_KEY });
const server = setupServer(fake.handler);
const outputs: string[] = [];
const lockDir = mkdtempSync(join(tmpdir(), "cml-lab-contract-locks-"));

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());
// The fake answers as the spec says CML does, or the engine is being tested against something CML never sends.
afterEach(() => expect(fake.specProblems.splice(0)).toEqual([]));

async function deploy(args: string[]): Promise<{ code: number; out: string; err: string; sent: RecordedRequest[] }> {
  const before = fake.requests.length;
  const io: CliIo & { out: string; err: string } = {
    out: "",
    err: "",
    isTTY: false,
    // PATH and HOME only: no AWS/Pinecone credentials leak in from the machine running the tests.
    // Its own same-machine lock directory: another run of this suite (another checkout) uses the same workspace URL.
    env: {
      CML_API_URL: BASE,
      CML_API_KEY: API_KEY,
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CML_LAB_LOCK_DIR: lockDir,
    },
    cwd: ROOT,
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
  const code = await main(args, io);
  outputs.push(io.out, io.err);
  return { code, out: io.out, err: io.err, sent: fake.requests.slice(before) };
}

const isMutation = (r: RecordedRequest) => r.method !== "GET" && !r.path.split("?")[0]?.endsWith(":download");
/** The apply lock is a file the engine writes and removes on every apply (engine/lock.ts). */
const LOCK = ".cml-lab/llm-hol.lock.json";
// The lock is its file and its heartbeat files (`….lock.beat-<token>-<n>`, src/deploy/engine/lock.ts).
const LOCK_FILES = LOCK.replace(/\.json$/, "");
const isLock = (r: RecordedRequest) => {
  const uploads = (r.body as { uploads?: unknown } | undefined)?.uploads;
  const lockUploads =
    Array.isArray(uploads) && uploads.length > 0 && uploads.every((u) => String(u).startsWith(LOCK_FILES));
  return r.path.includes(LOCK_FILES) || lockUploads;
};

function ours() {
  const projects = fake.projects().filter((p) => p.name === PROJECT);
  expect(projects).toHaveLength(1);
  const project = projects[0];
  if (!project) throw new Error("no project");
  return project;
}

describe("deploy apply manifests/lab.yaml --target workspace, against the quirky fake", () => {
  const decoyProject = fake.seedProject(`${PROJECT}-old`, { name: "old chat", subdomain: "llm-hol-2" });
  const target = ["--target", "workspace"];

  it("creates exactly the manifest's objects", async () => {
    const r = await deploy(["apply", MANIFEST, ...target]);
    expect(r.err).not.toContain("internal error");
    expect(r.code, r.err).toBe(0);
    // The lock's heartbeat names carry a random token, which can hold "50<digit>" by chance.
    expect(r.sent.filter((q) => q.method !== "GET" && !isLock(q) && /50\d/.test(JSON.stringify(q.body ?? "")))).toEqual(
      [],
    );

    const project = ours();
    expect(project.pendingPolls).toBe(0);
    const files = [...project.files.keys()];
    expect(files).toContain("launchers/run.py");
    expect(files).toContain("launchers/model.py");
    expect(files).toContain("html_links.txt");
    expect(files.some((f) => f.startsWith("samples/python-docs/"))).toBe(true);
    expect(files.filter((f) => /\(\d+\)/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".lock.json"))).toEqual([]);

    const jobs = fake.jobsOf(project.id);
    expect(jobs.map((j) => j.fields.name).sort()).toEqual(["ask", "populate-chroma", "scrape"]);
    const scrape = jobs.find((j) => j.fields.name === "scrape");
    const populate = jobs.find((j) => j.fields.name === "populate-chroma");
    expect(populate?.fields.parent_id).toBe(scrape?.id);
    expect(populate?.environment.CHROMA_URL).toBe("https://vectordb.ml.example.test");
    expect(jobs.find((j) => j.fields.name === "ask")?.fields.parent_id).toBe(populate?.id);

    const apps = fake.appsOf(project.id);
    expect(apps.map((a) => a.fields.subdomain).sort()).toEqual(["llm-hol", "vectordb"]);
    const chat = apps.find((a) => a.fields.subdomain === "llm-hol");
    expect(chat?.environment.CML_LAB_PINECONE_INDEX).toBe("cml-lab");

    const models = fake.modelsOf(project.id);
    expect(models.map((m) => m.name)).toEqual(["answerer"]);
    expect(models[0]?.builds).toHaveLength(1);
    expect(models[0]?.builds[0]?.deployments).toHaveLength(1);
    expect(chat?.environment.CML_LAB_CML_MODEL_ACCESS_KEY).toBe(models[0]?.access_key);

    // Decoys matched by the substring search are untouched.
    const decoy = fake.projects().find((p) => p.id === decoyProject);
    expect(decoy?.name).toBe(`${PROJECT}-old`);
    expect(fake.appsOf(decoyProject).map((a) => a.fields.subdomain)).toEqual(["llm-hol-2"]);
    expect(r.sent.filter((q) => q.path.includes(decoyProject))).toEqual([]);
  });

  it("a second apply changes nothing, and plan then reports no changes", async () => {
    // A hand-made app in our project whose subdomain contains ours: the substring search returns it too.
    const handMade = fake.seedApp(ours().id, { name: "chat (copy)", subdomain: "llm-hol-2" });
    const again = await deploy(["apply", MANIFEST, ...target]);
    expect(again.code, again.out + again.err).toBe(0);
    expect(again.sent.filter(isMutation).filter((q) => !isLock(q))).toEqual([]);
    const plan = await deploy(["plan", MANIFEST, ...target, "--detailed-exitcode"]);
    expect(plan.code, plan.out + plan.err).toBe(0);
    expect(plan.sent.filter(isMutation)).toEqual([]);
    expect(fake.appsOf(ours().id).find((a) => a.id === handMade)?.fields.subdomain).toBe("llm-hol-2");
    expect(ours().files.size).toBeGreaterThan(0);
    expect([...ours().files.keys()].filter((f) => /\(\d+\)/.test(f))).toEqual([]);
  });

  it("a changed variable patches only the chat app, environment as a JSON string, then restarts it", async () => {
    const r = await deploy(["apply", MANIFEST, ...target, "--var", "pinecone_index=other"]);
    expect(r.code, r.err).toBe(0);
    const project = ours();
    const chat = fake.appsOf(project.id).find((a) => a.fields.subdomain === "llm-hol");
    const changes = r.sent.filter(isMutation).filter((q) => !isLock(q));
    expect(changes.map((q) => `${q.method} ${q.path}`)).toEqual([
      `PATCH /projects/${project.id}/applications/${chat?.id}`,
      `POST /projects/${project.id}/applications/${chat?.id}:restart`,
    ]);
    const body = changes[0]?.body;
    const environment = typeof body === "object" && body !== null && "environment" in body ? body.environment : 0;
    expect(typeof environment).toBe("string");
    expect(JSON.parse(String(environment)).CML_LAB_PINECONE_INDEX).toBe("other");
    expect(chat?.environment.CML_LAB_PINECONE_INDEX).toBe("other");
  });

  it("a newer runtime moves jobs and apps with the runtime in every PATCH, and rebuilds the model", async () => {
    const newer = fake.addRuntime("2025.11.1-b2");
    const r = await deploy(["apply", MANIFEST, ...target, "--var", "pinecone_index=other", "--auto-approve"]);
    expect(r.code, r.out + r.err).toBe(0);
    const project = ours();
    const managed = [...fake.jobsOf(project.id), ...fake.appsOf(project.id)].filter(
      (w) => w.environment.CML_LAB_STACK === "llm-hol",
    );
    expect(managed).toHaveLength(5); // 3 jobs, 2 applications
    for (const w of managed) expect(w.runtime_identifier).toBe(newer);
    // The hand-made app is not ours: left on its runtime.
    expect(fake.appsOf(project.id).find((a) => a.fields.subdomain === "llm-hol-2")?.runtime_identifier).not.toBe(newer);
    const patches = r.sent.filter((q) => q.method === "PATCH");
    expect(patches).toHaveLength(5);
    for (const q of patches) expect(q.body).toMatchObject({ runtime_identifier: newer });
    const builds = fake.modelsOf(project.id)[0]?.builds ?? [];
    expect(builds.map((b) => b.fields.runtime_identifier)).toEqual([expect.any(String), newer]);
    expect(builds[1]?.deployments).toHaveLength(1);
    // The old deployment is stopped only once the new one serves.
    expect(builds[0]?.deployments.map((d) => d.status)).toEqual(["stopped"]);
    const plan = await deploy(["plan", MANIFEST, ...target, "--var", "pinecone_index=other", "--detailed-exitcode"]);
    expect(plan.code, plan.out + plan.err).toBe(0);
  });

  it("destroy deletes everything of the stack and nothing else (a project holding hand-made objects stays); a second destroy is a no-op", async () => {
    const r = await deploy(["destroy", MANIFEST, ...target, "--auto-approve"]);
    expect(r.code, r.err).toBe(0);
    // The hand-made app in our project keeps the project alive (deleting it would delete that app silently);
    // everything the stack made is gone, and the output says why the project stays.
    const kept = fake.projects().filter((p) => p.name === PROJECT);
    expect(kept).toHaveLength(1);
    expect(fake.appsOf(kept[0]?.id ?? "").map((a) => a.fields.subdomain)).toEqual(["llm-hol-2"]);
    expect(fake.jobsOf(kept[0]?.id ?? "")).toEqual([]);
    expect(r.out).toMatch(/project \(holds 1 object\(s\) this stack did not create/);
    expect(fake.appsOf(decoyProject)).toHaveLength(1);
    expect(r.sent.filter((q) => q.path.includes(decoyProject))).toEqual([]);

    const again = await deploy(["destroy", MANIFEST, ...target, "--auto-approve"]);
    expect(again.code, again.out + again.err).toBe(0);
    expect(again.sent.filter(isMutation)).toEqual([]);
  });

  it("never prints the API key, and sent it only as a bearer token", () => {
    expect(outputs.length).toBeGreaterThan(0);
    for (const text of outputs) expect(text).not.toContain(API_KEY);
    expect(JSON.stringify(fake.requests)).not.toContain(API_KEY);
  });
});
