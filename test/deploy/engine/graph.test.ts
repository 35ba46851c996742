import { describe, expect, it } from "vitest";
import { CycleError, dependentsOf, topoOrder } from "../../../src/deploy/engine/graph.js";

describe("graph", () => {
  it("orders dependencies first, stable in input order", () => {
    const order = topoOrder([
      { key: "c", dependsOn: ["b"] },
      { key: "a", dependsOn: [] },
      { key: "b", dependsOn: ["a", "missing"] },
      { key: "d", dependsOn: [] },
    ]).map((n) => n.key);
    expect(order).toEqual(["a", "d", "b", "c"]);
  });

  it("names the cycle", () => {
    expect(() =>
      topoOrder([
        { key: "jobs.a", dependsOn: ["jobs.c"] },
        { key: "jobs.b", dependsOn: ["jobs.a"] },
        { key: "jobs.c", dependsOn: ["jobs.b"] },
      ]),
    ).toThrow(CycleError);
    try {
      topoOrder([
        { key: "x", dependsOn: ["y"] },
        { key: "y", dependsOn: ["x"] },
      ]);
    } catch (error) {
      expect(String(error)).toMatch(/dependency cycle: (x → y → x|y → x → y)/);
    }
  });

  it("finds transitive dependents", () => {
    const nodes = [
      { key: "a", dependsOn: [] },
      { key: "b", dependsOn: ["a"] },
      { key: "c", dependsOn: ["b"] },
      { key: "d", dependsOn: [] },
    ];
    expect([...dependentsOf(nodes, "a")].sort()).toEqual(["b", "c"]);
  });
});
