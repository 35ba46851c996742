import { describe, expect, it } from "vitest";
import { applySummaryLine } from "../../../src/deploy/engine/events.js";
import { renderEvent, renderPlan, useColor } from "../../../src/deploy/engine/render.js";
import type { Plan } from "../../../src/deploy/engine/types.js";

const plan: Plan = {
  version: 1,
  stack: "lab",
  target: { name: "local" },
  project: "P",
  conflicts: [],
  fingerprint: "x",
  entries: [
    { key: "project", action: "skip", dependsOn: [], changes: [] },
    {
      key: "files.workloads",
      action: "update",
      dependsOn: ["project"],
      changes: [
        { path: "workloads/a.py", action: "update", old: "sha256:1", new: "sha256:2" },
        { path: "workloads/b.py", action: "update", new: "sha256:3" },
        { path: "workloads/old.py", action: "update", old: "sha256:4" },
      ],
    },
    {
      key: "applications.chat",
      action: "update",
      dependsOn: ["project"],
      changes: [
        { path: "env.AWS_SECRET_ACCESS_KEY", action: "update", old: { secret: "h1" }, new: { secret: "h2" } },
        { path: "env.MODEL_KEY", action: "update", new: { knownAfterApply: "models.m.access_key" } },
        { path: "resources.cpu", action: "update", old: 1, new: 2 },
      ],
    },
    {
      key: "jobs.nightly",
      action: "recreate",
      dependsOn: [],
      reason: "CML ignores `paused` on update (openapi/FACTS.md §6)",
      changes: [{ path: "paused", action: "recreate", old: false, new: true, reason: "x" }],
    },
    { key: "jobs.gone", action: "delete", dependsOn: [], changes: [], reason: "no longer in the manifest" },
    { key: "models.m", action: "create", dependsOn: [], changes: [] },
  ],
};

describe("render", () => {
  it("prints one line per changed resource, field diffs indented, secrets hidden, the fixed summary", () => {
    expect(renderPlan(plan, { color: false })).toEqual([
      "  ~ files.workloads",
      "      ~ workloads/a.py",
      "      + workloads/b.py",
      "      - workloads/old.py",
      "  ~ applications.chat",
      "      env.AWS_SECRET_ACCESS_KEY: (secret) → (secret)",
      "      env.MODEL_KEY: (none) → (known after apply)",
      "      resources.cpu: 1 → 2",
      "-/+ jobs.nightly (CML ignores `paused` on update (openapi/FACTS.md §6))",
      "      paused: false → true   (forces recreate)",
      "  - jobs.gone (no longer in the manifest)",
      "  + models.m",
      "",
      "Plan: 1 to create, 2 to update, 1 to recreate, 1 to delete, 1 unchanged. Deletes remove objects that left the manifest.",
    ]);
  });

  it("colours only on a TTY without NO_COLOR", () => {
    expect(useColor(true, {})).toBe(true);
    expect(useColor(false, {})).toBe(false);
    expect(useColor(true, { NO_COLOR: "1" })).toBe(false);
    expect(renderPlan(plan, { color: false }).join("\n")).not.toContain("\u001b[");
    // styleText itself drops escapes when the process' stdout is not a TTY; what matters is that color=false never adds any.
  });

  it("summarises an apply with the fixed wording", () => {
    const counts = { created: 2, updated: 1, recreated: 0, deleted: 0, unchanged: 5, failed: 0, skipped: 0 };
    expect(applySummaryLine({ counts, elapsedMs: 41_200 })).toBe(
      "Apply: 2 created, 1 updated, 0 recreated, 0 deleted, 5 unchanged, 0 failed (41s).",
    );
    const lines = renderEvent({
      type: "summary",
      counts: { ...counts, failed: 1, skipped: 1 },
      elapsedMs: 1000,
      failures: [{ key: "jobs.a", error: "cannot create jobs.a: boom" }],
      skipped: [{ key: "jobs.b", reason: "dependency failed: jobs.a" }],
      links: [{ key: "applications.chat", url: "https://chat.example" }],
    });
    expect(lines).toEqual([
      "",
      "Apply: 2 created, 1 updated, 0 recreated, 0 deleted, 5 unchanged, 1 failed (1s).",
      "  failed: cannot create jobs.a: boom",
      "  not run: jobs.b (dependency failed: jobs.a)",
      "  applications.chat: https://chat.example",
    ]);
  });
});
