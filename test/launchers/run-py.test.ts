import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// The Python launcher CML runs as a job/app script; it must pass words and exit codes through to cml-lab.
const root = join(import.meta.dirname, "../..");
function launch(env: Record<string, string>) {
  return spawnSync("python3", [join(root, "launchers/run.py")], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", CML_LAB_PROJECT_DIR: root, ...env },
    encoding: "utf8",
  });
}

describe("launchers/run.py", () => {
  it("runs the cml-lab command from CML_LAB_COMMAND + JOB_ARGUMENTS and exits 0 on success", () => {
    const result = launch({ CML_LAB_COMMAND: "--help", JOB_ARGUMENTS: "" });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("cml-lab");
  });

  it("splits JOB_ARGUMENTS like a shell and passes a failing exit code through", () => {
    const result = launch({ CML_LAB_COMMAND: "no-such", JOB_ARGUMENTS: "'two words'" });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/Unknown arguments: no-such, two words/);
  });

  it("runs the toolkit installed in the runtime (CML_LAB_HOME) when the project has no copy", () => {
    const project = mkdtempSync(join(tmpdir(), "bare-project-"));
    const result = spawnSync("python3", [join(root, "launchers/run.py")], {
      cwd: project,
      env: {
        PATH: process.env.PATH ?? "",
        CML_LAB_PROJECT_DIR: project,
        CML_LAB_HOME: root,
        CML_LAB_COMMAND: "--help",
      },
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("cml-lab");
  });

  it("expands ${NAME} from the environment in the words, leaving unknown names as written", () => {
    const result = launch({
      CML_LAB_COMMAND: "no-such",
      JOB_ARGUMENTS: "${DOCS_URL}/x $UNSET_NAME",
      DOCS_URL: "http://d",
    });
    expect(result.stderr).toMatch(/Unknown arguments: no-such, http:\/\/d\/x, \$UNSET_NAME/);
  });

  it("says what to set when no command is given", () => {
    const result = launch({});
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("set CML_LAB_COMMAND");
  });

  it("explains a missing node instead of a Python traceback", () => {
    const empty = mkdtempSync(join(tmpdir(), "no-node-"));
    // The real interpreter, not a PATH shim, so that PATH can be empty of node.
    const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], {
      encoding: "utf8",
    }).stdout.trim();
    const result = spawnSync(python, [join(root, "launchers/run.py")], {
      cwd: root,
      env: { PATH: empty, CML_LAB_PROJECT_DIR: empty, CML_LAB_COMMAND: "start" },
      encoding: "utf8",
    });
    expect(result.status).toBe(127);
    expect(result.stderr).toContain("no node found");
    expect(result.stderr).not.toContain("Traceback");
  });

  it("refuses the install job's node until the job has finished (.cml-lab/installed, written last)", () => {
    const project = mkdtempSync(join(tmpdir(), "half-installed-"));
    mkdirSync(join(project, ".cml-lab/node/bin"), { recursive: true });
    symlinkSync(process.execPath, join(project, ".cml-lab/node/bin/node"));
    const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], {
      encoding: "utf8",
    }).stdout.trim();
    const run = () =>
      spawnSync(python, [join(root, "launchers/run.py")], {
        cwd: project,
        env: {
          PATH: join(project, "empty"),
          CML_LAB_PROJECT_DIR: project,
          CML_LAB_HOME: root,
          CML_LAB_COMMAND: "--help",
        },
        encoding: "utf8",
      });
    const half = run();
    expect(half.status).toBe(127);
    expect(half.stderr).toContain("the install job has not finished (no .cml-lab/installed)");
    writeFileSync(join(project, ".cml-lab/installed"), "done\n");
    const done = run();
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toContain("cml-lab");
  });
});
