// biome-ignore-all lint/suspicious/noTemplateCurlyInString: manifest references are ${…} in plain strings.
/**
 * Property test: mutations of valid manifests (wrong types, deleted keys, renamed keys, injected references,
 * random YAML) never crash the loader, and the result is always either a manifest without errors, or at least one
 * error, each located in a file that exists with a line inside it. A deterministic seed keeps failures reproducible.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseDocument, stringify } from "yaml";
import { formatDiagnostics, loadManifest } from "../../../src/deploy/manifest/index.js";
import { CANARY, FIXTURES, writeTree } from "./helpers.js";

const SEEDS = ["valid.yaml", "jobs-graph.yaml", "references.yaml", "include.yaml"].map((f) =>
  readFileSync(`${FIXTURES}${f}`, "utf8"),
);
const CASES = 300;

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  true,
  "",
  "two",
  [],
  {},
  [1, [2]],
  { nested: { deep: true } },
  "${var.nope}",
  "${secret:CANARY_SECRET}",
  "${resources.jobs.a.id}",
  "${resources.jobs.zz.access_key}",
  "${env:HOME",
  "$${literal}",
  "UPPER_case sub",
  "a".repeat(300),
  "/abs/path.py",
  "../up.py",
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function mutate(value: Json, random: () => number, depth = 0): Json {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  if (Array.isArray(value)) {
    if (value.length === 0 || random() < 0.2) return pick(WEIRD_VALUES) as Json;
    const i = Math.floor(random() * value.length);
    const copy = [...value];
    if (random() < 0.3) copy.splice(i, 1);
    else copy[i] = mutate(copy[i] ?? null, random, depth + 1);
    return copy;
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 0 || (depth > 0 && random() < 0.15)) return pick(WEIRD_VALUES) as Json;
    const key = pick(keys);
    const copy = { ...value };
    const r = random();
    if (r < 0.25) delete copy[key];
    else if (r < 0.4) {
      copy[`${key.slice(0, -1)}${key.slice(-1) === "s" ? "" : "s"}`] = copy[key] ?? null;
      delete copy[key];
    } else copy[key] = mutate(copy[key] ?? null, random, depth + 1);
    return copy;
  }
  return pick(WEIRD_VALUES) as Json;
}

function randomYaml(random: () => number): string {
  const alphabet = [
    "a",
    ":",
    " ",
    "\n",
    "-",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "&x",
    "*x",
    "!!",
    "#",
    "\t",
    "${",
    "}",
    "|",
    ">",
    "<<",
  ];
  let s = "";
  const n = 1 + Math.floor(random() * 80);
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(random() * alphabet.length)];
  return s;
}

describe("manifest loader fuzz", () => {
  it(`never crashes and always yields a manifest or located errors (${CASES} cases)`, async () => {
    const random = rng(20261125);
    const dir = writeTree({
      "src/a.py": "",
      "src/b.py": "",
      "src/c.py": "",
      "src/app.py": "",
      "src/model.py": "",
      "parts/jobs.yaml": "jobs:\n  z: { script: src/b.py, after: a }\n",
    });
    const counts = { valid: 0, invalid: 0 };
    for (let i = 0; i < CASES; i++) {
      let text: string;
      const r = random();
      const seed = SEEDS[i % SEEDS.length] ?? "";
      if (r < 0.15) text = randomYaml(random);
      else if (r < 0.3) {
        // Splice random bytes into a valid file.
        const at = Math.floor(random() * seed.length);
        text = seed.slice(0, at) + randomYaml(random) + seed.slice(at + Math.floor(random() * 20));
      } else {
        let value = parseDocument(seed).toJS() as Json;
        // Some cases only re-serialise (still valid), most mutate one to three times.
        const rounds = Math.floor(random() * 4);
        for (let k = 0; k < rounds; k++) value = mutate(value, random);
        text = stringify(value);
      }
      const file = `case-${i}.yaml`;
      writeTree.into(dir, { [file]: text });
      const context = `case ${i}:\n${text}`;
      const result = await loadManifest(file, {
        env: { CANARY_SECRET: CANARY, HOME: "/home/x" },
        cwd: dir,
        vars: {},
      });
      const errors = result.diagnostics.filter((d) => d.severity === "error");
      if (result.manifest) {
        expect(errors, context).toEqual([]);
        counts.valid++;
      } else {
        expect(errors.length, context).toBeGreaterThan(0);
        counts.invalid++;
      }
      for (const d of result.diagnostics) {
        expect(d.location, `${context}\n${d.message}`).toBeDefined();
        expect(d.location?.line ?? 0, context).toBeGreaterThanOrEqual(1);
        expect(d.message, context).not.toMatch(/undefined|\[object Object\]|NaN/);
      }
      for (const format of ["text", "github", "json"] as const) {
        expect(formatDiagnostics(result.diagnostics, format, { color: false }), context).not.toContain(CANARY);
      }
    }
    if (process.env.FUZZ_VERBOSE) console.log(counts);
    // Both outcomes must occur, or the mutations test nothing.
    expect(counts.valid).toBeGreaterThan(5);
    expect(counts.invalid).toBeGreaterThan(100);
  });
});

/**
 * Hostile mutants of the real manifests (manifests/lab.yaml and the examples), through the real `deploy validate`
 * entry: deleted lines, unknown keys, aliases to nothing, includes of special and secret files, NUL bytes, invalid
 * UTF-8, huge numbers and deep nesting. Every run exits 0 or 1, every error has a location, nothing prints a stack
 * or the canary planted in the environment and in a secret file. A few run through the real bin as a child process.
 */
describe("deploy validate fuzz on the real manifests", () => {
  it("exits 0/1 with located errors and never prints a stack or a secret", async () => {
    const { execFile } = await import("node:child_process");
    const { existsSync, mkdirSync, readdirSync, writeFileSync } = await import("node:fs");
    const path = await import("node:path");
    const { runValidate } = await import("./helpers.js");
    const root = path.resolve(FIXTURES, "../../../..");
    const seeds = [
      path.join(root, "manifests/lab.yaml"),
      ...readdirSync(path.join(root, "manifests/examples"))
        .filter((f) => f.endsWith(".yaml"))
        .map((f) => path.join(root, "manifests/examples", f)),
    ].map((f) => readFileSync(f, "utf8"));
    const dir = writeTree({ "outside/secret.yaml": `token: ${CANARY}\n`, "proj/.cml-local/api-key": CANARY });
    const proj = path.join(dir, "proj");
    mkdirSync(path.join(proj, "sub"), { recursive: true });
    const hostile = [
      (t: string) => `${t}\ninclude: [../outside/secret.yaml]\n`,
      (t: string) => `${t}\ninclude: [/proc/self/environ]\n`,
      (t: string) => `${t}\ninclude: [/dev/stdin]\n`,
      (t: string) => `${t}\ninclude: [.cml-local/api-key]\n`,
      (t: string) => `${t}\ninclude: [sub]\n`,
      (t: string) => t.replace(/cpu: \d+/, "cpu: *nope"),
      (t: string) => t.replace(/memory: \d+/, "memory: 1e26"),
      (t: string) => `${t}\nextra_key_${t.length}: 1\n`,
      (t: string) => `${t}\nfiles:\n  - { from: /dev/zero, to: z }\n`,
      (t: string) => `${t}\nx: ${"[".repeat(3000)}${"]".repeat(3000)}\n`,
      (t: string) => `${t}\0`,
      (t: string) => t.replace(/a/, "\u00ff"),
    ];
    const random = rng(19);
    let tried = 0;
    const env = { CANARY_SECRET: CANARY, LEAK: CANARY, TOKEN_FILE: path.join(dir, "outside/secret.yaml") };
    const check = (code: number, out: string, err: string, context: string) => {
      expect([0, 1], context).toContain(code);
      expect(out + err, context).not.toContain(CANARY);
      expect(out + err, context).not.toMatch(/internal error|\n\s+at |Maximum call stack/);
    };
    for (let i = 0; i < 240; i++) {
      const seed = seeds[i % seeds.length] ?? "";
      const lines = seed.split("\n");
      for (let k = Math.floor(random() * 3); k > 0; k--) lines.splice(Math.floor(random() * lines.length), 1);
      let text = lines.join("\n");
      const mutation = hostile[Math.floor(random() * hostile.length)];
      if (mutation && random() < 0.8) text = mutation(text);
      const bytes = text.includes("\u00ff") ? Buffer.from(text, "latin1") : Buffer.from(text);
      writeFileSync(path.join(proj, "m.yaml"), bytes);
      const context = `case ${i}: ${text.slice(-120)}`;
      const json = await runValidate(["m.yaml", "--format", "json"], env, proj);
      check(json.code, json.out, json.err, context);
      for (const d of JSON.parse(json.out || "[]") as { severity: string; location?: { line: number } }[])
        if (d.severity === "error") expect(d.location?.line ?? 0, `${context}\n${json.out}`).toBeGreaterThanOrEqual(1);
      const text2 = await runValidate(["m.yaml"], env, proj);
      check(text2.code, text2.out, text2.err, context);
      tried++;
    }
    // Some through the real bin, as a child process with a time bound.
    const bin = path.join(root, "bin/deploy.js");
    if (existsSync(path.join(root, "dist/deploy/bin.js"))) {
      for (let i = 0; i < 8; i++) {
        writeFileSync(path.join(proj, "m.yaml"), (hostile[i] ?? String)(seeds[0] ?? ""));
        const result = await new Promise<{ code: number; out: string }>((done) =>
          execFile(
            process.execPath,
            [bin, "validate", "m.yaml"],
            { cwd: proj, env: { ...process.env, ...env }, timeout: 30_000 },
            (error, stdout, stderr) =>
              done({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, out: stdout + stderr }),
          ),
        );
        check(result.code, result.out, "", `bin case ${i}`);
        tried++;
      }
    }
    console.log(`deploy validate fuzz: ${tried} hostile mutants tried, 0 failures`);
  }, 300_000);
});
