/**
 * The engine knows no kind: a kind written only in a test (kinds/notes.ts) and added with one registry line plans,
 * applies, re-plans empty, updates, prunes and destroys through the unchanged engine, against the local platform.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findOneByName, listProjectDir } from "../../../src/client/index.js";
import { openTarget, type Target } from "../../../src/deploy/connection.js";
import { apply } from "../../../src/deploy/engine/apply.js";
import { readLive } from "../../../src/deploy/engine/live.js";
import { plan, planDestroy } from "../../../src/deploy/engine/plan.js";
import type { Plan } from "../../../src/deploy/engine/types.js";
import { kinds } from "../../../src/deploy/resources/index.js";
import { startTestPlatform, type TestPlatform } from "../../local/helpers.js";
import { desiredOf, manifest } from "./builder.js";
import { notesKind } from "./kinds/notes.js";

let wanted: Record<string, string> = {};
// The one registry line.
const registry = { ...kinds, notes: notesKind(() => wanted) };

const m = manifest({ name: "notes-stack", project: { ...manifest().project, name: "Notes Kind" } });
const desired = desiredOf(m);
let tp: TestPlatform;
let target: Target;

beforeAll(async () => {
  tp = await startTestPlatform();
  target = openTarget({ baseUrl: tp.platform.apiUrl, apiKey: tp.platform.apiKey, source: "test" });
}, 30_000);
afterAll(() => tp?.close());

async function planNow(destroy = false): Promise<{ p: Plan; live: Awaited<ReturnType<typeof readLive>> }> {
  const live = await readLive(target.api, m, registry, target.platform);
  const options = { target: { name: "local" }, kinds: registry };
  return { p: destroy ? planDestroy(desired, live, options) : plan(desired, live, options), live };
}

async function applyNow(destroy = false) {
  const { p, live } = await planNow(destroy);
  const summary = await apply(p, { api: target.api, platform: target.platform, desired, live, kinds: registry });
  expect(summary.failures).toEqual([]);
  return { p, summary };
}

const actions = (p: Plan) => p.entries.map((e) => `${e.action} ${e.key}`);

async function notesInProject(): Promise<string[]> {
  const project = await findOneByName(target.api, "project", { name: "Notes Kind" });
  if (!project?.id) return [];
  return (await listProjectDir(target.api, project.id, "notes")).map((f) => `notes/${f.path ?? ""}`).sort();
}

describe("a kind added with one registry line", () => {
  it("plans, applies, re-plans empty, updates and prunes through the unchanged engine", async () => {
    wanted = { hello: "hello, world", bye: "see you" };
    const created = await applyNow();
    expect(actions(created.p)).toEqual(["create project", "create notes.hello", "create notes.bye"]);
    expect(created.summary.counts.created).toBe(3);
    expect(await notesInProject()).toEqual(["notes/bye.txt", "notes/hello.txt"]);

    expect(actions((await planNow()).p)).toEqual(["skip project", "skip notes.hello", "skip notes.bye"]);

    wanted = { hello: "hello again", bye: "see you" };
    const { p: changed } = await planNow();
    expect(changed.entries.find((e) => e.key === "notes.hello")?.changes).toEqual([
      { path: "text", action: "update", old: "hello, world", new: "hello again" },
    ]);
    await applyNow();

    wanted = { hello: "hello again" };
    const pruned = await applyNow();
    expect(pruned.p.entries.filter((e) => e.action !== "skip").map((e) => [e.key, e.action, e.reason])).toEqual([
      ["notes.bye", "delete", "no longer in the manifest"],
    ]);
    expect(await notesInProject()).toEqual(["notes/hello.txt"]);
    expect(actions((await planNow()).p)).toEqual(["skip project", "skip notes.hello"]);
  }, 60_000);

  it("destroys the kind's objects, then the project", async () => {
    const destroyed = await applyNow(true);
    expect(actions(destroyed.p)).toEqual(["delete notes.hello", "delete project"]);
    expect(await findOneByName(target.api, "project", { name: "Notes Kind" })).toBeUndefined();
    expect(actions((await planNow(true)).p)).toEqual([]);
  }, 60_000);
});
