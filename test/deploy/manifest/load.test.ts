// biome-ignore-all lint/suspicious/noTemplateCurlyInString: manifest references are ${…} in plain strings.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BASE, errors, load } from "./helpers.js";

describe("loadManifest", () => {
  it("resolves a valid manifest with defaults, variables and whole-value references", async () => {
    const r = await load(`${BASE}variables:
  suffix: { default: dev }
  cpus: { default: 3 }
jobs:
  first: { script: src/a.py, cpu: "\${var.cpus}" }
  second: { script: ./src/b.py, after: first, env: { FIRST_ID: "\${resources.jobs.first.id}", N: 5 } }
applications:
  chat: { subdomain: "chat-\${var.suffix}", script: src/app.py }
models:
  answerer: { file: src/model.py, function: predict, deployment: { replicas: 2 } }
`);
    expect(r.diagnostics).toEqual([]);
    const m = r.manifest;
    expect(m?.file).toBe(path.join(r.dir, "m.yaml"));
    expect(m?.target).toEqual({ name: "local", local: true });
    expect(m?.jobs.first?.resources).toEqual({ cpu: 3, memory: 2, gpu: 0 });
    expect(m?.jobs.second).toMatchObject({ script: "src/b.py", after: "first", name: "second" });
    expect(m?.jobs.second?.env).toEqual({ FIRST_ID: { kind: "ref", resource: "jobs.first", field: "id" }, N: "5" });
    expect(m?.applications.chat?.subdomain).toBe("chat-dev");
    expect(m?.models.answerer?.deployment).toEqual({ resources: { cpu: 1, memory: 2, gpu: 0 }, replicas: 2, env: {} });
    expect(m?.files[0]).toMatchObject({ from: path.join(r.dir, "src"), to: "src", exclude: [] });
    expect(m?.jobs.first?.location).toEqual({ file: "m.yaml", line: 12, col: 3, endLine: 12, endCol: 8 });
  });

  it("applies variable precedence: default < target < --var < CML_LAB_VAR_x", async () => {
    const manifest = `${BASE}variables: { s: { default: d } }
targets:
  here: { default: true, local: true, variables: { s: t } }
applications:
  chat: { subdomain: "x-\${var.s}", script: src/app.py }
`;
    const sub = async (o: Parameters<typeof load>[1]) =>
      (await load(manifest, o)).manifest?.applications.chat?.subdomain;
    expect(await sub({})).toBe("x-t");
    expect(await sub({ vars: { s: "v" } })).toBe("x-v");
    expect(await sub({ vars: { s: "v" }, env: { CML_LAB_VAR_s: "e" } })).toBe("x-e");
  });

  it("keeps secrets as SecretValue, from the environment or from X_FILE", async () => {
    const manifest = `${BASE}jobs:
  a: { script: src/a.py, env: { TOKEN: "\${secret:TOKEN}", OTHER: "\${secret:OTHER}" } }
`;
    const r = await load(manifest, { env: { TOKEN: "t0k", OTHER_FILE: "/nonexistent" } });
    expect(errors(r)).toEqual(["jobs.a.env.OTHER: cannot read the file named by OTHER_FILE: no such file"]);
    const ok = await load(manifest, { env: { TOKEN: "t0k", OTHER: "o" } });
    expect(ok.manifest?.jobs.a?.env).toEqual({
      TOKEN: { kind: "secret", name: "TOKEN", value: "t0k" },
      OTHER: { kind: "secret", name: "OTHER", value: "o" },
    });
  });

  it("chooses the target by --target, default: true, or the only one; a remote target needs a URL", async () => {
    const manifest = `${BASE}targets:
  local: { default: true, local: true }
  ws: { url: "\${env:CML_API_URL}" }
`;
    expect((await load(manifest)).manifest?.target).toEqual({ name: "local", local: true });
    expect(
      (await load(manifest, { target: "ws", env: { CML_API_URL: "https://ml.example.com" } })).manifest?.target,
    ).toEqual({
      name: "ws",
      local: false,
      url: "https://ml.example.com",
    });
    const wrong = await load(manifest, { target: "wss" });
    expect(wrong.diagnostics).toMatchObject([{ message: 'unknown target "wss"', hint: 'did you mean "ws"?' }]);
    expect(errors(await load(manifest, { target: "ws" }))).toEqual([
      "targets.ws.url: environment variable CML_API_URL is not set",
    ]);
  });

  it("merges included files and locates their resources in their own file", async () => {
    const r = await load(`${BASE}include: [more/jobs.yaml]\njobs:\n  a: { script: src/a.py }\n`, {
      files: { "more/jobs.yaml": "jobs:\n  b: { script: src/b.py, after: a }\n  a: { script: src/a.py }\n" },
    });
    expect(r.diagnostics).toMatchObject([
      { message: "jobs.a is declared twice", location: { file: path.join("more", "jobs.yaml"), line: 3, col: 3 } },
    ]);
    const ok = await load(`${BASE}include: [more/jobs.yaml]\njobs:\n  a: { script: src/a.py }\n`, {
      files: { "more/jobs.yaml": "jobs:\n  b: { script: src/b.py, after: a }\n" },
    });
    expect(Object.keys(ok.manifest?.jobs ?? {})).toEqual(["a", "b"]);
    expect(ok.manifest?.jobs.b?.location.file).toBe(path.join("more", "jobs.yaml"));
  });

  it("reports an include cycle and a missing include at the include entry", async () => {
    const r = await load(`${BASE}include: [x.yaml, missing.yaml]\n`, { files: { "x.yaml": "include: [m.yaml]\n" } });
    expect(errors(r)).toEqual([
      "include cycle: m.yaml → x.yaml → m.yaml",
      "cannot read included file missing.yaml: no such file",
    ]);
    expect(r.diagnostics.every((d) => d.location?.file === "m.yaml" || d.location?.file === "x.yaml")).toBe(true);
  });

  it("collects semantic errors: cycles, after+schedule, unknown after, subdomains, half-set runtimes, scripts", async () => {
    const r = await load(`${BASE}jobs:
  a: { script: src/a.py, after: b }
  b: { script: src/b.py, after: a, schedule: "0 * * * *" }
  c: { script: src/c.py, after: aa, runtime: { editor: Workbench, kernel: Python 3.11 } }
applications:
  one: { subdomain: Bad_Name, script: src/app.py }
  two: { subdomain: bad-name, script: nowhere/app.py, env: { ID: "\${resources.jobs.zz.id}" } }
  three: { subdomain: bad-name, script: src/app.py }
`);
    expect(errors(r).sort()).toEqual(
      [
        "dependency cycle: jobs.a → jobs.b → jobs.a",
        "jobs.b has both after and schedule",
        'jobs.c.after names an unknown job "aa"',
        "jobs.c.runtime is half set: it has editor and kernel but no edition",
        'jobs.c.script "src/c.py" is not in src (synced to src)',
        'applications.one.subdomain "Bad_Name" is not a valid subdomain',
        'applications.two.script "nowhere/app.py" is neither synced by files: nor listed in project.existing_paths',
        "applications.two.env.ID: unknown resource jobs.zz",
        'applications.three has the same subdomain as applications.two ("bad-name")',
      ].sort(),
    );
    expect(r.manifest).toBeUndefined();
  });

  it("accepts scripts listed in project.existing_paths", async () => {
    const r = await load(`name: demo
project: { name: Demo, existing_paths: [launchers/, html_links.txt] }
defaults: { runtime: { identifier: img:1 } }
jobs:
  a: { script: launchers/run.py }
`);
    expect(r.diagnostics).toEqual([]);
  });
});

describe("loadManifest: references and defaults", () => {
  it("counts a reference in defaults.env for every resource that keeps it (cycles included)", async () => {
    const r = await load(
      `${BASE}defaults:
  runtime: { identifier: img:1 }
  env: { CHAT_URL: "\${resources.applications.chat.url}" }
jobs:
  a: { script: src/a.py }
  b: { script: src/b.py, env: { CHAT_URL: overridden } }
applications:
  chat: { subdomain: chat, script: src/app.py }
`.replace("defaults:\n  runtime: { editor: Workbench, kernel: Python 3.11, edition: Standard }\n", ""),
    );
    // chat inherits a reference to itself: a cycle. Job b overrides the key, so it has no edge.
    expect(errors(r)).toEqual(["dependency cycle: applications.chat → applications.chat"]);
    expect(r.diagnostics[0]?.path).toBe("defaults.env.CHAT_URL");
  });

  it("refuses references from the project to resources created inside it", async () => {
    const r = await load(`name: demo
project: { name: Demo, env: { ID: "\${resources.jobs.a.id}", SELF: "\${resources.project.id}" } }
defaults: { runtime: { identifier: img:1 } }
files: [{ from: src, to: src }]
jobs:
  a: { script: src/a.py }
`);
    expect(errors(r)).toEqual([
      "project.env.ID: the project cannot refer to jobs.a",
      "project.env.SELF: the project cannot refer to project",
    ]);
  });

  it("rejects two files: entries with the same destination", async () => {
    const r = await load(`${BASE}  - { from: src/a.py, to: src/ }\n`);
    expect(errors(r)).toEqual(['files[1].to "src/" is also the destination of files[0]']);
  });

  it("resolves every field of a complete manifest (the contract the engine consumes)", async () => {
    const r = await load(
      `name: full.stack-1
project:
  name: Full
  description: every field
  visibility: organization
  env: { P: "1" }
  existing_paths: [pre/]
  prevent_destroy: true
variables: { v: { default: 7, description: a number } }
targets:
  ws: { default: true, url: "https://ml.example.test/", variables: { v: 3 } }
defaults:
  runtime: { identifier: img:1, addons: [spark] }
  cpu: 0.5
  memory: 1
  gpu: 0
  env: { D: d, E: e }
files:
  - { from: src, to: src, exclude: ["*.pyc"] }
jobs:
  j:
    name: Job J
    script: src/a.py
    arguments: --n \${var.v}
    schedule: "0 3 * * 1"
    runtime: { editor: JupyterLab, kernel: Python 3.10, edition: Nvidia GPU, version: "2025.09.1-b5" }
    cpu: \${var.v}
    memory: 8
    gpu: 1
    timeout: 600
    kill_on_timeout: true
    paused: true
    env: { E: own, S: "\${secret:S}" }
    prevent_destroy: true
  k: { script: pre/x.py, after: j }
applications:
  app:
    name: App
    subdomain: app-\${var.v}
    description: an app
    script: src/app.py
    bypass_authentication: "\${env:BYPASS}"
    env: { J: "\${resources.jobs.j.name}" }
models:
  m:
    name: Model M
    description: a model
    file: src/model.py
    function: predict
    auth_enabled: false
    deployment: { cpu: 2, memory: 4, gpu: 0, replicas: 3, env: { X: "1" } }
`,
      { env: { S: "s3cret", BYPASS: "true" } },
    );
    expect(r.diagnostics).toEqual([]);
    const loc = expect.objectContaining({ file: "m.yaml" });
    expect(r.manifest).toEqual({
      name: "full.stack-1",
      file: path.join(r.dir, "m.yaml"),
      target: { name: "ws", local: false, url: "https://ml.example.test/" },
      project: {
        location: loc,
        preventDestroy: true,
        name: "Full",
        description: "every field",
        visibility: "organization",
        env: { P: "1" },
      },
      files: [{ from: path.join(r.dir, "src"), to: "src", exclude: ["*.pyc"], location: loc }],
      jobs: {
        j: {
          key: "j",
          location: loc,
          preventDestroy: true,
          name: "Job J",
          script: "src/a.py",
          arguments: "--n 3",
          schedule: "0 3 * * 1",
          runtime: { editor: "JupyterLab", kernel: "Python 3.10", edition: "Nvidia GPU", version: "2025.09.1-b5" },
          resources: { cpu: 3, memory: 8, gpu: 1 },
          timeout: 600,
          killOnTimeout: true,
          paused: true,
          env: { D: "d", E: "own", S: { kind: "secret", name: "S", value: "s3cret" } },
        },
        k: {
          key: "k",
          location: loc,
          preventDestroy: false,
          name: "k",
          script: "pre/x.py",
          arguments: "",
          after: "j",
          runtime: { identifier: "img:1", addons: ["spark"] },
          resources: { cpu: 0.5, memory: 1, gpu: 0 },
          timeout: 0,
          killOnTimeout: false,
          paused: false,
          env: { D: "d", E: "e" },
        },
      },
      applications: {
        app: {
          key: "app",
          location: loc,
          preventDestroy: false,
          name: "App",
          subdomain: "app-3",
          description: "an app",
          script: "src/app.py",
          runtime: { identifier: "img:1", addons: ["spark"] },
          resources: { cpu: 0.5, memory: 1, gpu: 0 },
          bypassAuthentication: true,
          env: { D: "d", E: "e", J: { kind: "ref", resource: "jobs.j", field: "name" } },
        },
      },
      models: {
        m: {
          key: "m",
          location: loc,
          preventDestroy: false,
          name: "Model M",
          description: "a model",
          file: "src/model.py",
          function: "predict",
          runtime: { identifier: "img:1", addons: ["spark"] },
          authEnabled: false,
          deployment: { resources: { cpu: 2, memory: 4, gpu: 0 }, replicas: 3, env: { D: "d", E: "e", X: "1" } },
        },
      },
    });
  });
});

describe("loadManifest: target URL", () => {
  it("interpolates variables in the chosen target's URL, with that target's values", async () => {
    const r = await load(
      `${BASE}variables: { host: { default: a.example.test } }
targets:
  ws: { default: true, url: "https://\${var.host}/", variables: { host: b.example.test } }
  other: { url: "\${env:UNSET_HERE}" }
`,
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.manifest?.target).toEqual({ name: "ws", local: false, url: "https://b.example.test/" });
  });
});

describe("loadManifest: included files", () => {
  it("resolves files[].from relative to the file that declares it", async () => {
    const r = await load(`${BASE}include: [parts/more.yaml]\n`, {
      files: { "parts/more.yaml": "files:\n  - { from: extra, to: extra }\n", "parts/extra/x.py": "" },
    });
    expect(r.diagnostics).toEqual([]);
    expect(r.manifest?.files.map((f) => [f.from, f.to, f.location.file])).toEqual([
      [path.join(r.dir, "src"), "src", "m.yaml"],
      [path.join(r.dir, "parts", "extra"), "extra", path.join("parts", "more.yaml")],
    ]);
  });
});
