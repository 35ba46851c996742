"""Runs a cml-lab command under CML's Python kernel.

CML executes a job's or application's `script` with the runtime's kernel (Python in standard runtimes), so a
Node program needs a Python launcher (see docs/workspace.md). This one runs `node <project>/bin/cml-lab.js`
with the words of CML_LAB_COMMAND (set in the manifest's `env`) followed by the job's JOB_ARGUMENTS (CML passes
a job's arguments only in that variable, never as argv), with $NAME / ${NAME} expanded from the environment, and exits with node's exit code so CML marks the run
failed when the workload fails. Output streams straight through, so CML's log shows it live.
"""
import os
import shlex
import shutil
import subprocess
import sys

# Under the PBJ kernel __file__ is not reliable; CML starts workloads in the project root (/home/cdsw).
PROJECT = os.environ.get("CML_LAB_PROJECT_DIR") or os.getcwd()


def find_node():
    """node on PATH (custom runtime), else the copy that launchers/install.py put in the project."""
    installed = os.path.join(PROJECT, ".cml-lab", "node", "bin", "node")
    for candidate in (os.environ.get("CML_LAB_NODE"), shutil.which("node"), installed):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            if candidate == installed and not os.path.exists(os.path.join(PROJECT, ".cml-lab", "installed")):
                # install.py writes this file last: its node is there, its npm ci did not finish (yet).
                sys.stderr.write("cml-lab: the install job has not finished (no .cml-lab/installed): run it again and read its log\n")
                sys.exit(127)
            return candidate
    sys.stderr.write("cml-lab: no node found: use the cml-lab runtime or run the install job first (docs/workspace.md)\n")
    sys.exit(127)


def command_words():
    words = shlex.split(os.environ.get("CML_LAB_COMMAND", "")) + shlex.split(os.environ.get("JOB_ARGUMENTS", ""))
    # CML never expands variables in arguments; expanding $NAME / ${NAME} here lets a manifest pass values that
    # only exist at run time (another application's URL in the job's environment). Unknown names stay as written.
    words = [os.path.expandvars(word) for word in words]
    if not words:
        sys.stderr.write("cml-lab: set CML_LAB_COMMAND (e.g. 'ingest scrape') in the job or application environment\n")
        sys.exit(2)
    return words


def toolkit_bin():
    """cml-lab as installed in the runtime (CML_LAB_HOME, set by the cml-lab runtime), else the copy in the project."""
    home = os.environ.get("CML_LAB_HOME") or PROJECT
    return os.path.join(home, "bin", "cml-lab.js")


def main():
    argv = [find_node(), toolkit_bin()] + command_words()
    sys.stdout.flush()
    code = subprocess.call(argv, cwd=PROJECT)
    if code != 0:
        # SystemExit keeps the kernel's own traceback out of the log; the workload already said what failed.
        raise SystemExit(code)


main()
