/**
 * runtime/Dockerfile, assembled without Docker (this machine has no Docker engine): its COPY and ENV lines are
 * read and carried out into a temporary root, the install step's result (node_modules) is linked from this
 * checkout (install.py itself is tested in install-py.test.ts), and a project holding only what
 * manifests/lab.yaml syncs runs workloads through launchers/run.py as CML would. The local platform's "cml-lab
 * runtime" (src/local/README.md) promises the same: CML_LAB_HOME with cml-lab in it, node on PATH.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const dockerfile = readFileSync(join(root, "runtime/Dockerfile"), "utf8").replace(/\\\n/g, " ");
const image = mkdtempSync(join(tmpdir(), "cml-lab-image-"));
afterAll(() => rmSync(image, { recursive: true, force: true }));

const instructions = (name: string) =>
  dockerfile
    .split("\n")
    .filter((line) => line.startsWith(`${name} `))
    .map((line) => line.slice(name.length + 1).trim());
const copies = instructions("COPY").map((line) => {
  const words = line.split(/\s+/);
  return { sources: words.slice(0, -1), dest: words.at(-1) ?? "" };
});
const env = Object.fromEntries(
  instructions("ENV").flatMap((line) =>
    [...line.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map(([, k, v]) => [k, (v ?? "").replace(/^"|"$/g, "")]),
  ),
);
const inImage = (path: string) => join(image, path);

/** Carries out the COPY lines into the temporary root. */
beforeAll(() => {
  for (const { sources, dest } of copies)
    for (const source of sources) {
      const target = dest.endsWith("/") && !source.endsWith("/") ? join(dest, basename(source)) : dest;
      mkdirSync(join(inImage(target), ".."), { recursive: true });
      cpSync(join(root, source), inImage(target), { recursive: true });
    }
  // The RUN step's product: production and workload packages, from the lock (install-py.test.ts runs the script).
  symlinkSync(join(root, "node_modules"), inImage(join(env.CML_LAB_HOME ?? "", "node_modules")));
});

describe("runtime/Dockerfile's cml-lab", () => {
  it("sends every file it copies in the build context (.dockerignore)", () => {
    const allowed = readFileSync(join(root, ".dockerignore"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("!"))
      .map((l) => l.slice(1));
    for (const { sources } of copies)
      for (const source of sources)
        expect(
          allowed.some((a) => source.startsWith(a)),
          source,
        ).toBe(true);
  });

  it("sets CML_LAB_HOME to a directory holding bin/, dist/ and the chat UI, as the launchers expect", () => {
    expect(env.CML_LAB_HOME).toMatch(/^\//);
    const home = inImage(env.CML_LAB_HOME ?? "");
    for (const file of ["bin/cml-lab.js", "dist/cli/main.js", "src/workloads/app/ui/index.html"])
      expect(existsSync(join(home, file)), file).toBe(true);
    // The chat app finds its UI from the image's dist/.
    const ui = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { uiDirectory } = await import(${JSON.stringify(join(home, "dist/workloads/app/ui-files.js"))}); console.log(uiDirectory())`,
      ],
      { encoding: "utf8" },
    );
    expect(ui.stderr).toBe("");
    expect(ui.stdout.trim()).toBe(join(home, "src/workloads/app/ui/"));
  });

  it("runs a workload through launchers/run.py in a project that holds only the synced launchers", () => {
    const project = mkdtempSync(join(tmpdir(), "cml-lab-image-project-"));
    try {
      cpSync(join(root, "launchers"), join(project, "launchers"), { recursive: true });
      const run = (command: string) =>
        spawnSync("python3", ["launchers/run.py"], {
          cwd: project,
          encoding: "utf8",
          timeout: 60_000,
          env: {
            PATH: process.env.PATH,
            HOME: project,
            CML_LAB_HOME: inImage(env.CML_LAB_HOME ?? ""),
            CML_LAB_COMMAND: command,
          },
        });
      const version = run("--version");
      expect(version.stderr).toBe("");
      expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version);
      const query = run("query 'What is a runtime?' --store none --model offline");
      expect(query.status, query.stderr).toBe(0);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }, 90_000);
});
