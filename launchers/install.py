"""Install job for workspaces without the cml-lab runtime: puts Node.js 20 and the production dependencies into
the project (persistent across sessions, jobs and applications), so launchers/run.py can start the workloads.

Idempotent: skips what is already there. Needs outbound HTTPS to nodejs.org and the npm registry (or set
CML_LAB_NODE_URL / npm_config_registry to an internal mirror).
"""
import os
import subprocess
import sys
import tarfile
import urllib.request

PROJECT = os.environ.get("CML_LAB_PROJECT_DIR") or os.getcwd()
NODE_VERSION = os.environ.get("CML_LAB_NODE_VERSION", "v20.19.5")
NODE_DIR = os.path.join(PROJECT, ".cml-lab", "node")
NODE_URL = os.environ.get("CML_LAB_NODE_URL", f"https://nodejs.org/dist/{NODE_VERSION}/node-{NODE_VERSION}-linux-x64.tar.xz")


def install_node():
    node = os.path.join(NODE_DIR, "bin", "node")
    if os.path.exists(node):
        print(f"node already installed at {node}")
        return node
    os.makedirs(os.path.dirname(NODE_DIR), exist_ok=True)
    archive = NODE_DIR + ".tar.xz"
    print(f"downloading {NODE_URL}", flush=True)
    urllib.request.urlretrieve(NODE_URL, archive)
    with tarfile.open(archive) as tar:
        top = tar.getmembers()[0].name.split("/")[0]
        tar.extractall(os.path.dirname(NODE_DIR))
    os.replace(os.path.join(os.path.dirname(NODE_DIR), top), NODE_DIR)
    os.remove(archive)
    return node


def main():
    node = install_node()
    npm = os.path.join(NODE_DIR, "bin", "npm")
    env = dict(os.environ, PATH=os.path.join(NODE_DIR, "bin") + os.pathsep + os.environ.get("PATH", ""))
    print("npm ci --omit=dev", flush=True)
    code = subprocess.call([node, npm, "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=PROJECT, env=env)
    if code != 0:
        raise SystemExit(code)
    print("cml-lab is installed; jobs and applications can use launchers/run.py")


main()
