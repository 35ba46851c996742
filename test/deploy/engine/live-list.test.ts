import { describe, expect, it } from "vitest";
import { LiveList } from "../../../src/deploy/engine/live-list.js";

// The TTY view of apply: one line per resource, redrawn in place, then the summary.
describe("LiveList", () => {
  it("shows each resource's state, elapsed time and last wait status, and redraws over the previous frame", () => {
    let clock = 0;
    let screen = "";
    const list = new LiveList(
      (text) => {
        screen += text;
      },
      () => clock,
    );
    list.update({ type: "resource.start", key: "jobs.scrape", action: "create" });
    list.update({ type: "resource.start", key: "applications.chat", action: "update" });
    clock = 2_500;
    list.update({
      type: "wait.progress",
      what: "applications.chat to be running",
      status: "APPLICATION_STARTING",
      elapsedMs: 2_000,
    });
    expect(list.frame()).toEqual([
      "  + jobs.scrape        running    2.5s",
      "  ~ applications.chat  running    2.5s  APPLICATION_STARTING",
    ]);
    list.update({ type: "resource.done", key: "jobs.scrape", action: "create", outcome: "ok", elapsedMs: 1_000 });
    list.update({
      type: "resource.done",
      key: "applications.chat",
      action: "update",
      outcome: "failed",
      elapsedMs: 3_000,
      error: "did not start",
    });
    expect(list.frame()).toEqual([
      "  + jobs.scrape        done       1.0s",
      "  ~ applications.chat  failed     3.0s  did not start",
    ]);
    // Every redraw after the first moves up over the lines it drew before.
    expect(screen.split("\x1b[1F\x1b[J").length - 1).toBe(1);
    expect(screen.split("\x1b[2F\x1b[J").length - 1).toBe(3);
    list.update({
      type: "summary",
      counts: { created: 1, updated: 0, recreated: 0, deleted: 0, unchanged: 0, failed: 1, skipped: 0 },
      elapsedMs: 3_000,
      failures: [{ key: "applications.chat", error: "did not start" }],
      skipped: [],
      links: [],
    });
    expect(screen).toContain("Apply: 1 created, 0 updated, 0 recreated, 0 deleted, 0 unchanged, 1 failed (3s).");
  });
});
