/**
 * Parallel creates finish in any order; what an apply reports (its links, its outputs) comes in plan order, so the
 * same apply prints the same lines every time (docs/lab.md shows them, and the docs are tests).
 */
import { describe, expect, it } from "vitest";
import { apply } from "../../../src/deploy/engine/apply.js";
import type { KindAdapter, KindRegistry } from "../../../src/deploy/engine/kind.js";
import type { Plan } from "../../../src/deploy/engine/types.js";
import { kinds } from "../../../src/deploy/resources/index.js";
import { desiredOf, manifest } from "./builder.js";

const names = ["docs", "vectordb", "chat", "extra"];

/** A kind whose creates finish in the reverse of the order they start. */
function sitesKind(): KindAdapter {
  return {
    kind: "sites",
    rules: { recreateOn: {}, serverDefaults: {} },
    owns: (key) => key.startsWith("sites."),
    plan: () => [],
    outputs: () => undefined,
    async create(_ctx, entry) {
      const name = entry.key.slice("sites.".length);
      await new Promise((r) => setTimeout(r, 10 * (names.length - names.indexOf(name))));
      return { id: name, url: `http://127.0.0.1/${name}` };
    },
    update: () => Promise.reject(new Error("not planned")),
    delete: () => Promise.reject(new Error("not planned")),
  };
}

describe("apply's report", () => {
  it("lists links and outputs in plan order, not in the order parallel creates finished", async () => {
    const registry: KindRegistry = { ...kinds, sites: sitesKind() };
    const plan: Plan = {
      version: 1,
      stack: "order",
      target: { name: "local" },
      project: "Order",
      conflicts: [],
      fingerprint: "x",
      entries: [
        { key: "project", action: "skip", id: "proj-1", dependsOn: [], changes: [] },
        ...names.map((n) => ({
          key: `sites.${n}` as const,
          action: "create" as const,
          dependsOn: ["project" as const],
          changes: [],
        })),
      ],
    };
    const finished: string[] = [];
    let outputs: string[] = [];
    const summary = await apply(plan, {
      // The sites kind never calls the API; the project is unchanged (skip).
      api: undefined as never,
      platform: { appUrl: async () => undefined, logs: async () => false },
      desired: desiredOf(manifest()),
      live: {},
      kinds: registry,
      onEvent: (e) => {
        if (e.type === "resource.done") finished.push(e.key);
      },
      onOutputs: (o) => {
        outputs = [...o.keys()];
      },
    });
    expect(summary.failures).toEqual([]);
    // The premise: they did finish in another order.
    expect(finished).toEqual(names.map((n) => `sites.${n}`).reverse());
    expect(summary.links.map((l) => l.key)).toEqual(names.map((n) => `sites.${n}`));
    expect(outputs.filter((k) => k.startsWith("sites."))).toEqual(names.map((n) => `sites.${n}`));
  });
});
