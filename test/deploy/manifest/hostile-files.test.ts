// biome-ignore-all lint/suspicious/noTemplateCurlyInString: manifest references are ${…} in plain strings.
/**
 * Hostile input to `deploy validate`: includes, sync sources and secret files that point at files that are not
 * manifests (outside the tree, special files, pseudo-files, huge files), and manifests that are not valid text or
 * YAML. Each is refused before it is read, at a location, with exit 1, and no format ever prints a planted secret.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BASE, BASE_FILES, CANARY, runValidate, writeTree } from "./helpers.js";

const FORMATS = ["text", "json", "github"] as const;

/** A project directory `proj/` with the manifest, next to `outside/` which holds a secret in YAML form. */
function setup(manifest: string | Buffer, extra: Record<string, string> = {}) {
  const dir = writeTree({
    "outside/secret.yaml": `token: ${CANARY}\n`,
    "outside/secret.txt": `${CANARY}\n`,
    ...Object.fromEntries(Object.entries({ ...BASE_FILES, ...extra }).map(([k, v]) => [`proj/${k}`, v])),
  });
  const proj = path.join(dir, "proj");
  writeFileSync(path.join(proj, "m.yaml"), manifest);
  return { dir, proj };
}

async function validateAll(proj: string, env: NodeJS.ProcessEnv = {}) {
  const results = [];
  for (const format of FORMATS) {
    const r = await runValidate(["m.yaml", "--format", format], { CANARY_SECRET: CANARY, ...env }, proj);
    expect(r.out + r.err, format).not.toContain(CANARY);
    expect(r.out + r.err, format).not.toMatch(/internal error|\n\s+at |Maximum call stack/);
    results.push(r);
  }
  const [text] = results;
  // The text format prints its diagnostics on stderr and the summary on stdout: read them as a user sees them.
  return text ? { ...text, out: text.err + text.out } : { code: -1, out: "", err: "" };
}

describe("deploy validate on hostile files", () => {
  it("refuses includes outside the manifest's tree, through links, and of files that are not .yaml", async () => {
    const { dir, proj } = setup(`${BASE}include:\n  - INCLUDE\n`);
    symlinkSync(path.join(dir, "outside/secret.yaml"), path.join(proj, "link.yaml"));
    mkdirSync(path.join(proj, "sub"));
    symlinkSync(path.join(dir, "outside"), path.join(proj, "sub/out"));
    mkdirSync(path.join(proj, ".cml-local"));
    writeFileSync(path.join(proj, ".cml-local/api-key"), CANARY);
    const cases: [string, RegExp][] = [
      ["../outside/secret.yaml", /is outside the manifest's directory/],
      [path.join(dir, "outside/secret.yaml"), /is outside the manifest's directory/],
      ["link.yaml", /is outside the manifest's directory/],
      ["sub/out/secret.yaml", /is outside the manifest's directory/],
      ["../outside/secret.txt", /is not a \.yaml or \.yml file/],
      [".cml-local/api-key", /is not a \.yaml or \.yml file/],
      ["/proc/self/environ", /is not a \.yaml or \.yml file/],
      ["/dev/stdin", /is not a \.yaml or \.yml file/],
      ["sub", /is not a \.yaml or \.yml file/],
    ];
    for (const [include, expected] of cases) {
      writeFileSync(path.join(proj, "m.yaml"), `${BASE}include:\n  - ${JSON.stringify(include)}\n`);
      const r = await validateAll(proj, { SECRET_ENV: CANARY });
      expect(r.code, include).toBe(1);
      expect(r.out, include).toMatch(/^m\.yaml:9:5: error: include /m);
      expect(r.out, include).toMatch(expected);
    }
  });

  it("refuses special files inside the tree before opening them (a FIFO would block forever)", async () => {
    const { proj } = setup(`${BASE}include: [fifo.yaml, dir.yaml, big.yaml]\n`);
    execFileSync("mkfifo", [path.join(proj, "fifo.yaml")]);
    mkdirSync(path.join(proj, "dir.yaml"));
    writeFileSync(path.join(proj, "big.yaml"), `jobs: {}\n${"# padding\n".repeat(120_000)}`);
    const r = await validateAll(proj);
    expect(r.code).toBe(1);
    expect(r.out).toContain("m.yaml:8:11: error: cannot read included file fifo.yaml: not a regular file");
    expect(r.out).toContain("m.yaml:8:22: error: cannot read included file dir.yaml: is a directory");
    expect(r.out).toContain("m.yaml:8:32: error: cannot read included file big.yaml: larger than 1 MiB");
  });

  it("never quotes a file that is not a manifest (a list or a single value at the top)", async () => {
    const { proj } = setup(`${BASE}include: [key.yaml]\n`, { "key.yaml": `-----BEGIN KEY----- ${CANARY}\n` });
    const r = await validateAll(proj);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      "key.yaml:1:1: error: key.yaml is not a manifest: its top level must be a mapping (key: value), not a single value",
    );
    const list = setup(`- ${CANARY}\n`);
    const l = await validateAll(list.proj);
    expect(l.out).toContain("m.yaml is not a manifest");
  });

  it("refuses files: sources that are the file system root, devices, /proc or special files", async () => {
    const { proj } = setup(
      `${BASE}  - { from: /, to: root }\n  - { from: /dev/zero, to: zero }\n  - { from: /proc/self/environ, to: env }\n  - { from: fifo, to: fifo }\n`,
    );
    execFileSync("mkfifo", [path.join(proj, "fifo")]);
    const r = await validateAll(proj);
    expect(r.code).toBe(1);
    expect(r.out).toContain("m.yaml:8:13: error: files[1].from / is the root of the file system");
    expect(r.out).toContain("m.yaml:9:13: error: files[2].from /dev/zero is in /dev");
    expect(r.out).toMatch(/m\.yaml:10:13: error: files\[3\]\.from \/proc\/self\/environ is in \/proc/);
    expect(r.out).toMatch(/m\.yaml:11:13: error: files\[4\]\.from .*fifo is neither a regular file nor a directory/);
  });

  it("reads *_FILE secrets only from small regular files and never prints them", async () => {
    const manifest = `${BASE}jobs:\n  a:\n    script: src/a.py\n    env:\n      TOKEN: \${secret:TOKEN}\n`;
    const { dir, proj } = setup(manifest);
    execFileSync("mkfifo", [path.join(dir, "fifo")]);
    writeFileSync(path.join(dir, "big"), "x".repeat(70_000));
    writeFileSync(path.join(dir, "nul"), `${CANARY}\u0000`);
    writeFileSync(path.join(dir, "latin1"), Buffer.from([0x41, 0xff, 0x42]));
    const cases: [string, string][] = [
      ["/dev/zero", "not a regular file"],
      [path.join(dir, "fifo"), "not a regular file"],
      [dir, "is a directory"],
      ["/proc/self/environ", "content does not match its size"],
      [path.join(dir, "big"), "larger than 64 KiB"],
      [path.join(dir, "nul"), "not UTF-8 text without NUL bytes"],
      [path.join(dir, "latin1"), "not UTF-8 text without NUL bytes"],
    ];
    for (const [file, expected] of cases) {
      const r = await validateAll(proj, { TOKEN_FILE: file });
      expect(r.code, file).toBe(1);
      expect(r.out, file).toMatch(/^m\.yaml:12:14: error: jobs\.a\.env\.TOKEN: /m);
      expect(r.out, file).toContain(expected);
    }
    const ok = await validateAll(proj, { TOKEN_FILE: path.join(dir, "outside/secret.txt") });
    expect(ok.code).toBe(0);
  });

  it("rejects manifests that are not UTF-8 text or not valid YAML, at a location, in plain words", async () => {
    const nested = (n: number) => `${BASE}x: ${"[".repeat(n)}${"]".repeat(n)}\n`;
    const blockNested = (n: number) =>
      `${BASE}x:\n${Array.from({ length: n }, (_, i) => `${" ".repeat(i + 2)}k${i}:`).join("\n")}\n`;
    const job = (field: string) => `${BASE}jobs:\n  a:\n    script: src/a.py\n    ${field}\n`;
    const cases: [string | Buffer, RegExp][] = [
      [job("cpu: *nope"), /m\.yaml:11:10: error: \*nope refers to no anchor/],
      [job("env: { A: &a x, B: *b }"), /m\.yaml:11:24: error: \*b refers to no anchor/],
      [Buffer.from(`${BASE}# a\u0000b\n`), /m\.yaml:8:4: error: m\.yaml contains a NUL byte/],
      [
        Buffer.concat([Buffer.from(`${BASE}# é `), Buffer.from([0xc3, 0x28]), Buffer.from("\n")]),
        /m\.yaml:8:5: error: m\.yaml is not valid UTF-8 text/,
      ],
      [Buffer.concat([Buffer.from(BASE), Buffer.from([0xed, 0xa0, 0x80])]), /m\.yaml:8:1: error: .*not valid UTF-8/],
      [job("cpu: 1e26"), /m\.yaml:11:10: error: jobs\.a\.cpu must be <= 1024/],
      [job("memory: .inf"), /m\.yaml:11:13: error: \.inf is not a usable number/],
      [job("gpu: 123456789012345678901234567890"), /m\.yaml:11:10: error: jobs\.a\.gpu must be <= 64/],
      [job("timeout: 99999999999"), /m\.yaml:11:14: error: jobs\.a\.timeout must be <= 31622400/],
      [
        `${BASE}variables:\n  n: { default: "1e26" }\njobs:\n  a:\n    script: src/a.py\n    cpu: \${var.n}\n`,
        /m\.yaml:13:10: error: jobs\.a\.cpu must be a number from 0 to 1024/,
      ],
      [nested(2000), /m\.yaml:8:\d+: error: the document is nested too deeply/],
      [nested(100_000), /m\.yaml:8:\d+: error: the document is nested too deeply/],
      [blockNested(1000), /error: the document is nested too deeply|error: .*too deeply nested/],
    ];
    for (const [manifest, expected] of cases) {
      const { proj } = setup(manifest);
      const r = await validateAll(proj);
      expect(r.code, String(manifest).slice(0, 200)).toBe(1);
      expect(r.out, String(manifest).slice(0, 200)).toMatch(expected);
    }
  });
});
