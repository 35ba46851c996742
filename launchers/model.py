"""CML model function for the offline answerer: `predict(args)` with `args` the request's JSON object.

Build the model with file `launchers/model.py` and function `predict` in a Python runtime. Each call runs
`node <toolkit>/dist/workloads/model/stdio.js` with the args as JSON on stdin and returns its JSON output
({"answer", "citations"}, plus "response" for {"prompt": ...} requests). Node starts per call (~0.1 s), which
is small next to CML's request overhead and keeps this file free of state. The toolkit is the one installed
in the runtime (CML_LAB_HOME) or the project's copy; node comes from PATH, CML_LAB_NODE or the project's
.cml-lab/node (launchers/install.py), as for launchers/run.py.
"""
import json
import os
import shutil
import subprocess

PROJECT = os.environ.get("CML_LAB_PROJECT_DIR") or os.getcwd()


def _node():
    installed = os.path.join(PROJECT, ".cml-lab", "node", "bin", "node")
    for candidate in (os.environ.get("CML_LAB_NODE"), shutil.which("node"), installed):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            if candidate == installed and not os.path.exists(os.path.join(PROJECT, ".cml-lab", "installed")):
                raise RuntimeError("cml-lab: the install job has not finished (no .cml-lab/installed): run it again and read its log")
            return candidate
    raise RuntimeError("cml-lab: no node found: use the cml-lab runtime or run the install job first (docs/workspace.md)")


def _script():
    home = os.environ.get("CML_LAB_HOME") or PROJECT
    return os.path.join(home, "dist", "workloads", "model", "stdio.js")


def predict(args):
    done = subprocess.run(
        [_node(), _script()],
        input=json.dumps(args).encode("utf-8"),
        capture_output=True,
        cwd=PROJECT,
        timeout=float(os.environ.get("CML_LAB_MODEL_TIMEOUT_S", "60")),
    )
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or "exit code %d" % done.returncode
        if done.returncode == 2:
            raise ValueError(message)
        raise RuntimeError("cml-lab model failed: " + message)
    return json.loads(done.stdout.decode("utf-8"))
