"""Install job for workspaces without the cml-lab runtime: puts Node.js 20, the production dependencies and the
workloads' packages into the project (persistent across sessions, jobs and applications), so launchers/run.py can
start the workloads. runtime/Dockerfile runs it too, with CML_LAB_NODE naming the image's node.

Idempotent: skips what is already there. Needs outbound HTTPS to nodejs.org and the npm registry (or set
CML_LAB_NODE_URL / npm_config_registry to an internal mirror).
"""
import json
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
    given = os.environ.get("CML_LAB_NODE")
    if given:
        return given
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


def workload_packages():
    """The packages only the workloads use (the vector stores, Bedrock, the ONNX embedder, the scraper's HTML
    libraries): cml-lab's optional peer dependencies. `npm ci --omit=dev` leaves them out (in the repository they
    are also devDependencies), so they are added by name, at the versions package-lock.json pins."""
    with open(os.path.join(PROJECT, "package.json")) as f:
        manifest = json.load(f)
    with open(os.path.join(PROJECT, "package-lock.json")) as f:
        locked = json.load(f)["packages"]
    optional = [name for name, meta in manifest.get("peerDependenciesMeta", {}).items() if meta.get("optional")]
    return [f"{name}@{locked['node_modules/' + name]['version']}" for name in optional]


def npm(node, *args):
    npm_cli = os.path.join(os.path.dirname(node), "npm")
    env = dict(os.environ, PATH=os.path.dirname(node) + os.pathsep + os.environ.get("PATH", ""))
    print("npm " + " ".join(args), flush=True)
    code = subprocess.call([node, npm_cli, *args, "--ignore-scripts", "--no-audit", "--no-fund"], cwd=PROJECT, env=env)
    if code != 0:
        raise SystemExit(code)


def main():
    node = install_node()
    npm(node, "ci", "--omit=dev")
    # --save-prod: the names are devDependencies too, and npm keeps a named package's type unless told; as
    # production packages, --omit=dev keeps them (npm warns "Removing devDependencies.… in favor of dependencies.…"
    # for each). --no-save: package.json and the lock stay as they are.
    npm(node, "install", "--no-save", "--save-prod", "--omit=dev", *workload_packages())
    print("cml-lab is installed; jobs and applications can use launchers/run.py")


main()
