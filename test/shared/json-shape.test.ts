import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isJsonObject, parseShaped, shapeOf } from "../../src/shared/json-shape.js";

const root = join(import.meta.dirname, "../..");

describe("json-shape (ajv for JSON from outside the process)", () => {
  it("accepts what the schema states, passes other fields through, and says what a rejected value lacks", () => {
    const isHolder = shapeOf<{ token: string; pid: number }>({
      type: "object",
      required: ["token", "pid"],
      properties: { token: { type: "string" }, pid: { type: "number" } },
    });
    expect(parseShaped('{"token":"t","pid":4,"newer":true}', isHolder)).toEqual({ token: "t", pid: 4, newer: true });
    expect(parseShaped('{"token":"t","pid":"4"}', isHolder)).toBeUndefined();
    expect(isHolder.describe()).toBe("/pid must be number");
    expect(parseShaped("not json", isHolder)).toBeUndefined();
    expect([{}, [], null, "x"].map((v) => isJsonObject(v))).toEqual([true, false, false, false]);
  });

  it("loads ajv at the first check, not when a module that declares shapes is imported (the client declares one)", () => {
    // The built client, as a library consumer imports it (dist is what `npm run build` writes).
    const script = `
      import { createRequire } from "node:module";
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => /[\\\\/]ajv[\\\\/]/.test(f));
      const { envFromWire } = await import("cml-lab/client");
      const before = loaded();
      const env = envFromWire('{"A":"1","B":2}');
      console.log(JSON.stringify({ before, after: loaded(), env }));`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ before: false, after: true, env: { A: "1", B: "2" } });
  });
});
