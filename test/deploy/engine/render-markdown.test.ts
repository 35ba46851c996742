import { describe, expect, it } from "vitest";
import { renderPlanMarkdown } from "../../../src/deploy/engine/render-markdown.js";
import { plan } from "../../../src/deploy/stack.js";
import { app, desiredOf, job, liveOf, manifest } from "./builder.js";

const OLD_SECRET = "canary-old-secret-1a2b";
const NEW_SECRET = "canary-new-secret-3c4d";
const stack = (secret: string) =>
  manifest({
    jobs: { scrape: job("scrape", { arguments: "--links a|b.txt" }) },
    applications: {
      chat: app("chat", {
        env: { AWS_SECRET_ACCESS_KEY: { kind: "secret", name: "AWS_SECRET_ACCESS_KEY", value: secret } },
      }),
    },
  });

describe("deploy plan --format markdown", () => {
  it("renders the summary line, a table of actions and field changes in <details>, secrets only as changed", () => {
    const live = liveOf(stack(OLD_SECRET));
    const scrape = live.jobs.find((j) => j.name === "scrape");
    if (!scrape) throw new Error("fixture");
    scrape.script = "workloads/other.py";
    const p = plan(desiredOf(stack(NEW_SECRET)), live, { target: { name: "workspace" } });
    const text = renderPlanMarkdown(p).join("\n");
    expect(text).toContain("**Plan: 0 to create, 2 to update, 0 to recreate, 0 to delete, 1 unchanged.**");
    expect(text).toMatch(/\| `~` \| `jobs\.scrape` \| update \| 1 \| {2}\|/);
    expect(text).toMatch(/\| `~` \| `applications\.chat` \| update \| 1 \|/);
    expect(text).toMatch(/<details>\n<summary>Field-level changes \(2\)<\/summary>/);
    expect(text).toContain('| `script` | `"workloads/other.py"` | `"workloads/scrape.py"` |');
    expect(text).toContain("| `env.AWS_SECRET_ACCESS_KEY` | (secret) | changed |");
    expect(text).not.toContain(NEW_SECRET);
    expect(text).not.toContain(OLD_SECRET);
    expect(text).not.toMatch(/"secret":/);
    expect(text.trimEnd().endsWith("</details>")).toBe(true);
  });

  it("an unchanged stack is the summary line and no table", () => {
    const p = plan(desiredOf(stack(OLD_SECRET)), liveOf(stack(OLD_SECRET)), { target: { name: "local" } });
    const lines = renderPlanMarkdown(p);
    expect(lines).toContain("**Plan: 0 to create, 0 to update, 0 to recreate, 0 to delete, 3 unchanged.**");
    expect(lines.join("\n")).not.toMatch(/<details>|\| resource \|/);
  });
});
