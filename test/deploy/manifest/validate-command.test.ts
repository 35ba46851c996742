import { describe, expect, it } from "vitest";
import { CANARY, FIXTURE_ENV, runValidate } from "./helpers.js";

describe("deploy validate", () => {
  it("exits 0 for a valid manifest and 1 for an invalid one, without a stack trace", async () => {
    expect((await runValidate(["valid.yaml"])).code).toBe(0);
    const bad = await runValidate(["jobs-graph.yaml"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("jobs-graph.yaml:8:33: error: dependency cycle: jobs.a → jobs.c → jobs.b → jobs.a");
    expect(bad.out + bad.err).not.toMatch(/internal error|\n\s+at /);
  });

  it("resolves --target and --var, and rejects an unknown variable or a malformed --var as user errors", async () => {
    const ws = await runValidate(["valid.yaml", "--target", "workspace", "--var", "suffix=two"]);
    expect(ws).toMatchObject({ code: 0, out: expect.stringContaining("target workspace") });
    // Only the first = separates name and value.
    const eq = await runValidate(["valid.yaml", "--var", "suffix=x=y"]);
    expect(eq.err).toContain('applications.chat.subdomain "chat-x=y" is not a valid subdomain');
    const unknown = await runValidate(["valid.yaml", "--var", "sufix=1"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('error: unknown variable "sufix" given with --var\n  hint: did you mean "suffix"?');
    const malformed = await runValidate(["valid.yaml", "--var", "novalue"]);
    expect(malformed).toMatchObject({ code: 1, err: 'error: --var must look like name=value, got "novalue"\n' });
  });

  it("reports a missing manifest file as one error, in every format", async () => {
    const text = await runValidate(["nope.yaml"]);
    expect(text).toMatchObject({
      code: 1,
      out: "",
      err: "error: cannot read manifest nope.yaml: no such file\n1 error, 0 warnings\n",
    });
    const json = await runValidate(["nope.yaml", "--format", "json"]);
    expect(JSON.parse(json.out)).toEqual([
      { severity: "error", message: "cannot read manifest nope.yaml: no such file" },
    ]);
  });

  it("prints text diagnostics on stderr, and the JSON and GitHub formats on stdout", async () => {
    const text = await runValidate(["jobs-graph.yaml"]);
    expect(text.code).toBe(1);
    expect(text.out).toBe("");
    expect(text.err).toContain("jobs-graph.yaml:8:33: error: dependency cycle");
    const warned = await runValidate(["valid.yaml"], { CML_API_URL: "https://ml.example.test" });
    expect(warned.err).toContain("warning: jobs.b.env.KEY: secret CANARY_SECRET is not set");
    expect(warned.out).toMatch(/^valid\.yaml is valid \(target /);
    expect(warned.out).not.toContain("warning");
    for (const format of ["json", "github"]) {
      const r = await runValidate(["jobs-graph.yaml", "--format", format]);
      expect(r.err, format).toBe("");
      expect(r.out, format).toContain("dependency cycle");
    }
  });

  it("colours text only on a TTY without NO_COLOR", async () => {
    const { main } = await import("../../../src/deploy/main.js");
    const run = async (isTTY: boolean, env: NodeJS.ProcessEnv) => {
      let out = "";
      const { FIXTURES } = await import("./helpers.js");
      await main(["validate", "jobs-graph.yaml"], {
        isTTY,
        env,
        cwd: FIXTURES,
        stdout: () => {},
        stderr: (t) => {
          out += t;
        },
      });
      return out;
    };
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what is being tested.
    const ansi = /\u001b\[/;
    expect(await run(true, { ...FIXTURE_ENV, FORCE_COLOR: "1" })).toMatch(ansi);
    expect(await run(true, { ...FIXTURE_ENV, NO_COLOR: "1" })).not.toMatch(ansi);
    expect(await run(false, FIXTURE_ENV)).not.toMatch(ansi);
  });

  it("never prints a secret value, even when the manifest misuses it", async () => {
    for (const format of ["text", "github", "json"]) {
      for (const file of ["valid.yaml", "references.yaml"]) {
        const r = await runValidate([file, "--format", format]);
        expect(r.out + r.err).not.toContain(CANARY);
      }
    }
  });
});

describe("deploy validate without secrets", () => {
  it("warns about a missing secret by default and fails with --require-secrets", async () => {
    const env = { CML_API_URL: "https://ml.example.test" };
    const lenient = await runValidate(["valid.yaml"], env);
    expect(lenient.code).toBe(0);
    expect(lenient.err).toContain("warning: jobs.b.env.KEY: secret CANARY_SECRET is not set (plan and apply need it)");
    const strict = await runValidate(["valid.yaml", "--require-secrets"], env);
    expect(strict.code).toBe(1);
    expect(strict.err).toContain("error: jobs.b.env.KEY: secret CANARY_SECRET is not set");
  });
});

describe("manifests/examples", () => {
  it("every example validates (warnings allowed: secrets and build outputs may be absent)", async () => {
    const { readdirSync } = await import("node:fs");
    const { fileURLToPath } = await import("node:url");
    const repo = fileURLToPath(new URL("../../../", import.meta.url));
    const examples = readdirSync(`${repo}manifests/examples`).filter((f) => f.endsWith(".yaml"));
    expect(examples).toEqual(expect.arrayContaining(["jobs-and-app.yaml", "lab-draft.yaml"]));
    for (const file of examples) {
      const r = await runValidate([`manifests/examples/${file}`], {}, repo);
      expect(r.err, file).not.toContain("error:");
      expect(r.code, file).toBe(0);
    }
  });
});
