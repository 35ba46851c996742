import { describe, expect, it } from "vitest";
import { renderPlan } from "../../../src/deploy/engine/render.js";
import { EMPTY_LIVE, plan, planDestroy, selectEntries } from "../../../src/deploy/stack.js";
import { app, desiredOf, job, liveOf, manifest, model } from "./builder.js";

const target = { name: "local" };
const SECRET = "canary-secret-value-9f8e7d";

const lab = manifest({
  jobs: {
    scrape: job("scrape", { arguments: "--links html_links.txt" }),
    populate: job("populate", { after: "scrape", env: { CHROMA_PATH: "/home/cdsw/chroma" } }),
  },
  applications: {
    chat: app("chat", {
      env: { AWS_SECRET_ACCESS_KEY: { kind: "secret", name: "AWS_SECRET_ACCESS_KEY", value: SECRET } },
    }),
  },
  models: { answerer: model("answerer") },
});

function actions(p: ReturnType<typeof plan>) {
  return Object.fromEntries(p.entries.map((e) => [e.key, e.action]));
}

describe("plan", () => {
  it("plans everything as create on an empty workspace, in dependency order", () => {
    const p = plan(desiredOf(lab), EMPTY_LIVE, { target });
    expect(new Set(Object.values(actions(p)))).toEqual(new Set(["create"]));
    const order = p.entries.map((e) => e.key);
    expect(order[0]).toBe("project");
    expect(order.indexOf("jobs.scrape")).toBeLessThan(order.indexOf("jobs.populate"));
    expect(order.indexOf("models.answerer.build")).toBeLessThan(order.indexOf("models.answerer.deployment"));
    expect(renderPlan(p, { color: false }).at(-1)).toBe(
      "Plan: 7 to create, 0 to update, 0 to recreate, 0 to delete, 0 unchanged.",
    );
  });

  it("shows no change when the workspace holds what the manifest says (no phantom diffs)", () => {
    const p = plan(desiredOf(lab), liveOf(lab), { target });
    expect(p.conflicts).toEqual([]);
    expect(p.entries.filter((e) => e.action !== "skip")).toEqual([]);
    expect(renderPlan(p, { color: false })).toEqual([
      "Plan: 0 to create, 0 to update, 0 to recreate, 0 to delete, 7 unchanged.",
    ]);
  });

  it("reports exactly the field edited on the server, old → new", () => {
    const live = liveOf(lab);
    const scrape = live.jobs.find((j) => j.name === "scrape");
    if (!scrape) throw new Error("fixture");
    scrape.script = "workloads/other.py";
    const p = plan(desiredOf(lab), live, { target });
    const changed = p.entries.filter((e) => e.action !== "skip");
    expect(changed).toHaveLength(1);
    expect(changed[0]?.key).toBe("jobs.scrape");
    expect(changed[0]?.changes).toEqual([
      { path: "script", action: "update", old: "workloads/other.py", new: "workloads/scrape.py" },
    ]);
    expect(renderPlan(p, { color: false })).toContain('      script: "workloads/other.py" → "workloads/scrape.py"');
  });

  it("recreates a job whose `paused` changed, because CML ignores it on PATCH", () => {
    const edited = manifest({
      ...lab,
      jobs: {
        ...lab.jobs,
        scrape: job("scrape", { arguments: "--links html_links.txt", schedule: "0 * * * *", paused: true }),
      },
    });
    const live = liveOf(lab);
    const p = plan(desiredOf(edited), live, { target });
    const entry = p.entries.find((e) => e.key === "jobs.scrape");
    expect(entry?.action).toBe("recreate");
    expect(entry?.reason).toMatch(/paused/);
    // Its dependent job is re-pointed at the new id in the same apply.
    const child = p.entries.find((e) => e.key === "jobs.populate");
    expect(child?.action).toBe("update");
    expect(child?.changes).toEqual([
      expect.objectContaining({
        path: "after",
        new: { knownAfterApply: "jobs.scrape.id" },
        reason: "jobs.scrape is recreated",
      }),
    ]);
  });

  it("refuses unmarked objects unless adopting, and never touches another stack's", () => {
    const unmarked = plan(desiredOf(lab), liveOf(lab, null), { target });
    expect(unmarked.conflicts.join("\n")).toMatch(
      /project exists in the workspace but was not created by stack "lab".*--adopt/,
    );
    const adopted = plan(desiredOf(lab), liveOf(lab, null), { target, adopt: true });
    expect(adopted.conflicts).toEqual([]);
    const scrape = adopted.entries.find((e) => e.key === "jobs.scrape");
    expect(scrape?.action).toBe("update");
    expect(scrape?.changes.map((c) => c.path)).toEqual(["env.CML_LAB_STACK"]);
    const foreign = plan(desiredOf(lab), liveOf(lab, "other-stack"), { target, adopt: true });
    expect(foreign.conflicts.join("\n")).toMatch(/belongs to stack "other-stack"/);
  });

  it("prunes marked objects that left the manifest", () => {
    const smaller = manifest({ ...lab, jobs: { scrape: lab.jobs.scrape ?? job("scrape") } });
    const p = plan(desiredOf(smaller), liveOf(lab), { target });
    expect(p.entries.filter((e) => e.action !== "skip").map((e) => [e.key, e.action])).toEqual([
      ["jobs.populate", "delete"],
    ]);
    expect(renderPlan(p, { color: false }).at(-1)).toMatch(
      /1 to delete, .*Deletes remove objects that left the manifest/,
    );
  });

  it("never puts a secret value in the plan or its rendering, yet sees it change", () => {
    const live = liveOf(lab);
    const same = plan(desiredOf(lab), live, { target });
    expect(JSON.stringify(same)).not.toContain(SECRET);
    const rotated = manifest({
      ...lab,
      applications: {
        chat: app("chat", { env: { AWS_SECRET_ACCESS_KEY: { kind: "secret", name: "X", value: "rotated-canary" } } }),
      },
    });
    const p = plan(desiredOf(rotated), live, { target });
    const chat = p.entries.find((e) => e.key === "applications.chat");
    expect(chat?.action).toBe("update");
    const text = `${JSON.stringify(p)}\n${renderPlan(p, { color: false }).join("\n")}`;
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("rotated-canary");
    expect(text).toContain("env.AWS_SECRET_ACCESS_KEY: (secret) → (secret)");
  });

  it("rebuilds a model only when its source changed, and redeploys after a rebuild", () => {
    const live = liveOf(lab);
    const desired = desiredOf(lab);
    const p0 = plan(desired, live, { target });
    expect(actions(p0)["models.answerer.build"]).toBe("skip");
    const changed = { ...desired, modelSources: new Map([["answerer", "sha256:new"]]) };
    const p = plan(changed, live, { target });
    expect(actions(p)["models.answerer.build"]).toBe("update");
    expect(actions(p)["models.answerer.deployment"]).toBe("update");
    expect(actions(p)["models.answerer"]).toBe("skip");
  });

  it("restarts a failed application, and ignores `paused` on an unscheduled job", () => {
    const live = liveOf(lab);
    const chat = live.applications[0];
    if (chat) chat.status = "APPLICATION_FAILED";
    // `paused` is output-only in the spec's Job type; the server still reports it.
    live.jobs = live.jobs.map((j) => (j.name === "scrape" ? { ...j, paused: true } : j));
    const p = plan(desiredOf(lab), live, { target });
    expect(p.entries.filter((e) => e.action !== "skip").map((e) => [e.key, e.changes.map((c) => c.path)])).toEqual([
      ["applications.chat", ["state"]],
    ]);
  });

  it("selects resources with what they depend on, and names unknown keys", () => {
    const p = plan(desiredOf(lab), EMPTY_LIVE, { target });
    const { plan: selected, unknown } = selectEntries(p, ["jobs.populate", "jobs.nope"]);
    expect(selected.entries.map((e) => e.key)).toEqual(["project", "jobs.scrape", "jobs.populate"]);
    expect(unknown).toEqual(["jobs.nope"]);
  });

  it("changes the fingerprint when the workspace changes", () => {
    const base = liveOf(lab);
    const a = plan(desiredOf(lab), base, { target });
    const live = structuredClone(base);
    const chat = live.applications[0];
    if (chat) chat.cpu = 4;
    const b = plan(desiredOf(lab), live, { target });
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(plan(desiredOf(lab), structuredClone(base), { target }).fingerprint).toBe(a.fingerprint);
  });

  it("lists destroy and prune deletes in declaration order, whatever order the workspace lists them in", () => {
    // A listing comes back in creation order, which parallel creates make vary from run to run.
    const three = manifest({
      jobs: { scrape: job("scrape"), populate: job("populate"), ask: job("ask") },
      applications: { docs: app("docs"), vectordb: app("vectordb"), chat: app("chat") },
    });
    const live = liveOf(three);
    const reversed = { ...live, jobs: [...live.jobs].reverse(), applications: [...live.applications].reverse() };
    const declared = [
      "jobs.scrape",
      "jobs.populate",
      "jobs.ask",
      "applications.docs",
      "applications.vectordb",
      "applications.chat",
    ];
    for (const l of [live, reversed]) {
      const destroy = planDestroy(desiredOf(three), l, { target });
      expect(destroy.entries.map((e) => e.key)).toEqual([...declared, "project"]);
      // Prune: the same objects, gone from the manifest (so known by their live names), sorted by key per kind.
      const empty = manifest({ jobs: {}, applications: {} });
      const pruned = plan(desiredOf(empty), l, { target }).entries.filter((e) => e.action === "delete");
      expect(pruned.map((e) => e.key)).toEqual([
        ...["jobs.ask", "jobs.populate", "jobs.scrape"],
        ...["applications.chat-app", "applications.docs-app", "applications.vectordb-app"],
      ]);
    }
  });
});
