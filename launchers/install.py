"""Install job for workspaces without the cml-lab runtime (docs/workspace.md §2b): puts Node.js into the project
(.cml-lab/node, which persists across sessions, jobs and applications), cml-lab's production dependencies and the
workloads' packages into its node_modules, so launchers/run.py and launchers/model.py can start the workloads on a
stock Python runtime. runtime/Dockerfile runs it too, with CML_LAB_NODE naming the image's node (no download).

Node.js comes from CML_LAB_NODE_URL (default: nodejs.org's node-<CML_LAB_NODE_VERSION>-linux-<arch>.tar.xz). Its
SHA-256 is checked before anything is unpacked, against CML_LAB_NODE_SHA256 when set (pin it: that also guards
against a compromised mirror), else against the SHASUMS256.txt next to the tarball (which guards against a damaged
download). Then `npm ci --omit=dev` installs the dependencies from the project's package-lock.json, and the
workloads' packages (cml-lab's optional peers) are added at the versions the lock pins (npm's own variables apply:
npm_config_registry for a mirror, npm_config_offline to use only npm's cache).

Idempotent, and safe to stop at any point: the tarball is downloaded and unpacked in a temporary directory that
the next run removes, the unpacked tree is renamed into place in one step, and .cml-lab/installed is written last
(launchers started with CML_LAB_WAIT_FOR_INSTALL wait for it). A re-run skips a Node.js that came from the same
URL (and checksum) and an npm install whose package.json and package-lock.json have not changed. Python standard
library only. Every failure ends the job with one line: `cml-lab install: <what went wrong>`.
"""
import fcntl
import hashlib
import json
import os
import platform
import posixpath
import re
import shutil
import ssl
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request

# Under the PBJ kernel __file__ is not reliable; CML starts workloads in the project root (/home/cdsw).
PROJECT = os.environ.get("CML_LAB_PROJECT_DIR") or os.getcwd()
STATE = os.path.join(PROJECT, ".cml-lab")
NODE_DIR = os.path.join(STATE, "node")
# "<url>\n<sha256>\n" of the tarball the installed Node.js was unpacked from.
NODE_SOURCE = os.path.join(NODE_DIR, ".cml-lab-source")
INSTALLED = os.path.join(STATE, "installed")
TEMP_PREFIX = "tmp-install-"
DEFAULT_NODE_VERSION = "v20.19.5"
CHUNK = 1 << 20
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class InstallError(Exception):
    """A failure the user can act on, said in one line."""


def setting(name, default=""):
    return (os.environ.get(name) or "").strip() or default


def node_url():
    url = setting("CML_LAB_NODE_URL")
    if url:
        return url
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    if not arch:
        raise InstallError("nodejs.org has no Linux build for machine %r; set CML_LAB_NODE_URL" % machine)
    version = setting("CML_LAB_NODE_VERSION", DEFAULT_NODE_VERSION)
    return "https://nodejs.org/dist/%s/node-%s-linux-%s.tar.xz" % (version, version, arch)


def opener():
    """urllib with the proxy variables (its default) and the extra CA bundles cml-lab's Node side trusts too."""
    context = ssl.create_default_context()
    for name in ("NODE_EXTRA_CA_CERTS", "CML_LAB_CA_BUNDLE"):
        cafile = setting(name)
        if cafile:
            try:
                context.load_verify_locations(cafile=cafile)
            except (OSError, ssl.SSLError) as error:
                raise InstallError("%s=%s is not a readable PEM file of certificate authorities (%s)" % (name, cafile, error))
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))


def open_url(url):
    try:
        return OPENER.open(url, timeout=60)
    except urllib.error.HTTPError as error:
        raise InstallError("%s: HTTP %d %s" % (url, error.code, error.reason))
    except (urllib.error.URLError, OSError) as error:
        raise InstallError("%s: %s" % (url, getattr(error, "reason", error)))


def expected_sha256(url):
    """(checksum, where it came from): the pinned one, else the line for the tarball in SHASUMS256.txt beside it."""
    pinned = setting("CML_LAB_NODE_SHA256").lower()
    if pinned:
        if not SHA256.match(pinned):
            raise InstallError("CML_LAB_NODE_SHA256 must be 64 hexadecimal digits, got %r" % pinned)
        return pinned, "CML_LAB_NODE_SHA256"
    sums_url = urllib.parse.urljoin(url, "SHASUMS256.txt")
    name = posixpath.basename(urllib.parse.urlparse(url).path)
    try:
        with open_url(sums_url) as response:
            text = response.read(CHUNK).decode("utf-8", "replace")
    except OSError as error:
        raise InstallError("%s: %s" % (sums_url, error))
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[1].lstrip("*") == name and SHA256.match(words[0].lower()):
            return words[0].lower(), sums_url
    raise InstallError("%s lists no SHA-256 for %s; set CML_LAB_NODE_SHA256 to pin one" % (sums_url, name))


def download(url, path):
    """Streams url into path; returns the SHA-256 of what arrived."""
    digest = hashlib.sha256()
    try:
        with open_url(url) as response, open(path, "wb") as out:
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
    except OSError as error:
        raise InstallError("%s: download failed: %s" % (url, error))
    return digest.hexdigest()


def checked_members(tar, what):
    """The archive's entries, refused as a whole if one could write outside the directory it is unpacked in.

    Refused: absolute names, `..`, devices and FIFOs, links whose target leaves the tree, and any path that passes
    through a symbolic link of the archive (so where a link points is exactly where it lands). Returns the members
    and the one top directory (node-vX-linux-x64/)."""
    members = tar.getmembers()
    links = set(posixpath.normpath(m.name) for m in members if m.issym())

    def refuse(reason):
        raise InstallError("%s: refused to unpack: %s" % (what, reason))

    def inside(path, name):
        """path (relative to the archive root) walked component by component: never above it, never via a link."""
        parts = []
        for part in path.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    refuse("%r leads outside the archive" % name)
                parts.pop()
                continue
            if "/".join(parts) in links:
                refuse("%r passes through the symbolic link %r" % (name, "/".join(parts)))
            parts.append(part)
        return "/".join(parts)

    tops = set()
    for m in members:
        if m.name.startswith("/") or ".." in m.name.split("/"):
            refuse("%r is absolute or contains .." % m.name)
        if not (m.isfile() or m.isdir() or m.issym() or m.islnk()):
            refuse("%r is a device or FIFO" % m.name)
        name = inside(m.name, m.name)
        if not name:
            continue
        tops.add(name.split("/")[0])
        if m.issym():
            if m.linkname.startswith("/"):
                refuse("link %r points at the absolute path %r" % (m.name, m.linkname))
            inside(posixpath.join(posixpath.dirname(name), m.linkname), m.name)
        elif m.islnk():
            inside(m.linkname, m.name)
    if len(tops) != 1:
        refuse("expected one top directory (node-vX-linux-x64/), found %s" % (sorted(tops) or "none"))
    return members, tops.pop()


def unpack(archive, into, what):
    try:
        with tarfile.open(archive, "r:*") as tar:
            members, top = checked_members(tar, what)
            # Python's own "data" filter (3.12, and security releases of older ones) checks the same again.
            options = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(into, members=members, **options)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise InstallError("%s: cannot unpack: %s" % (what, error))
    return os.path.join(into, top)


def installed_source():
    try:
        with open(NODE_SOURCE) as f:
            url, sha = (f.read().split() + ["", ""])[:2]
        return url, sha
    except OSError:
        return None


def install_node(workdir):
    given = setting("CML_LAB_NODE")
    if given:
        # The runtime image's own node (runtime/Dockerfile): nothing to download.
        if not os.access(given, os.X_OK):
            raise InstallError("CML_LAB_NODE=%s is not an executable" % given)
        return given
    url = node_url()
    name = posixpath.basename(urllib.parse.urlparse(url).path) or "node.tar"
    node = os.path.join(NODE_DIR, "bin", "node")
    source = installed_source()
    pinned = setting("CML_LAB_NODE_SHA256").lower()
    if source and os.access(node, os.X_OK) and source[0] == url and (not pinned or source[1] == pinned):
        print("node: already installed from %s" % url, flush=True)
        return node
    expected, checked_against = expected_sha256(url)
    print("node: downloading %s" % url, flush=True)
    archive = os.path.join(workdir, name)
    got = download(url, archive)
    if got != expected:
        raise InstallError(
            "%s: SHA-256 mismatch: expected %s (from %s), got %s; nothing was installed" % (name, expected, checked_against, got)
        )
    print("node: SHA-256 %s matches %s" % (got, checked_against), flush=True)
    tree = unpack(archive, os.path.join(workdir, "unpacked"), name)
    os.remove(archive)
    new_node = os.path.join(tree, "bin", "node")
    try:
        version = subprocess.run([new_node, "--version"], capture_output=True, timeout=60, check=True).stdout.decode().strip()
    except (OSError, subprocess.SubprocessError) as error:
        raise InstallError("%s holds no bin/node that runs on this machine (%s); nothing was installed" % (name, error))
    with open(os.path.join(tree, ".cml-lab-source"), "w") as f:
        f.write("%s\n%s\n" % (url, got))
    # The launchers must not start on a half-replaced installation: they wait for INSTALLED, written last.
    remove(INSTALLED)
    if os.path.lexists(NODE_DIR):
        os.rename(NODE_DIR, os.path.join(workdir, "previous"))
    os.rename(tree, NODE_DIR)
    print("node: %s installed in %s" % (version, os.path.relpath(NODE_DIR, PROJECT)), flush=True)
    return node


def install_packages(node):
    lock = os.path.join(PROJECT, "package-lock.json")
    if not (os.path.isfile(lock) and os.path.isfile(os.path.join(PROJECT, "package.json"))):
        raise InstallError(
            "the project has no package.json and package-lock.json: sync cml-lab's build output into it first (docs/workspace.md §2b)"
        )
    with open(lock, "rb") as f:
        text = f.read()
    with open(os.path.join(PROJECT, "package.json"), "rb") as f:
        manifest_text = f.read()
    # package.json names the workload packages (its optional peers); the lock pins their versions.
    stamp = "package-lock.json sha256 %s\npackage.json sha256 %s\nnode %s\n" % (
        hashlib.sha256(text).hexdigest(),
        hashlib.sha256(manifest_text).hexdigest(),
        (installed_source() or ("", ""))[1],
    )
    try:
        needs_modules = any(key for key in json.loads(text).get("packages", {}))
    except (ValueError, AttributeError):
        raise InstallError("package-lock.json is not a JSON lock file")
    # node_modules removed by hand (or never made): install again even though the stamp says otherwise.
    complete = os.path.isdir(os.path.join(PROJECT, "node_modules")) or not needs_modules
    if read(INSTALLED) == stamp and complete:
        print("npm: dependencies already installed for this package-lock.json", flush=True)
        return
    remove(INSTALLED)
    bin_dir = os.path.dirname(node)
    npm_cli = os.path.join(bin_dir, "npm")
    if not os.path.exists(npm_cli):
        raise InstallError("%s is missing: the Node.js installation has no npm" % npm_cli)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))

    def npm(*args):
        print("npm " + " ".join(args), flush=True)
        code = subprocess.call([node, npm_cli, *args, "--ignore-scripts", "--no-audit", "--no-fund"], cwd=PROJECT, env=env)
        if code != 0:
            raise InstallError("npm %s failed with exit code %d (its output is above)" % (args[0], code))

    npm("ci", "--omit=dev")
    packages = workload_packages(json.loads(manifest_text), json.loads(text), registries(node, npm_cli, env))
    if packages:
        # --save-prod: the names are devDependencies too, and npm keeps a named package's type unless told; as
        # production packages, --omit=dev keeps them. --no-save: package.json and the lock stay as they are.
        npm("install", "--no-save", "--save-prod", "--omit=dev", *packages)
    temp = INSTALLED + ".tmp"
    with open(temp, "w") as f:
        f.write(stamp)
    os.replace(temp, INSTALLED)


def workload_packages(manifest, locked, registry_of):
    """The packages only the workloads use (the vector stores, Bedrock, the ONNX embedder, the scraper's HTML
    libraries): cml-lab's optional peer dependencies. `npm ci --omit=dev` leaves them out (in the repository they
    are also devDependencies), so they are added at the versions package-lock.json pins, by their tarball's URL
    on the registry: `npm ci` fills npm's cache with the tarballs under those URLs but not with the registry's
    package documents a name@version needs, so with npm_config_offline and a cache `npm ci` filled, name@version
    fails ENOTCACHED where the URL installs (the lock records no `resolved` URL to take them from)."""
    pinned = locked.get("packages", {})
    optional = [name for name, meta in manifest.get("peerDependenciesMeta", {}).items() if meta.get("optional")]
    missing = [name for name in optional if "node_modules/" + name not in pinned]
    if missing:
        raise InstallError("package-lock.json pins no version of %s" % ", ".join(missing))
    return [tarball_url(registry_of(name), name, pinned["node_modules/" + name]["version"]) for name in optional]


def tarball_url(registry, name, version):
    """The npm registry's tarball address: <registry>/<name>/-/<name without its scope>-<version>.tgz."""
    return "%s/%s/-/%s-%s.tgz" % (registry.rstrip("/"), name, name.split("/")[-1], version)


def registries(node, npm_cli, env):
    """name -> the registry npm uses for it (a scope's own registry, else the default), as npm's config says."""
    result = subprocess.run(
        [node, npm_cli, "config", "list", "--json"], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    try:
        config = json.loads(result.stdout) if result.returncode == 0 else {}
    except ValueError:
        config = {}
    default = config.get("registry") or "https://registry.npmjs.org/"

    def registry_of(name):
        scope = name.split("/")[0] if name.startswith("@") else None
        return (scope and config.get(scope + ":registry")) or default

    return registry_of


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def main():
    os.makedirs(STATE, exist_ok=True)
    # One install at a time (a job run and a session, say); the lock goes with the process, also when it is killed.
    with open(os.path.join(STATE, "install.lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("another install is running; waiting for it", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        # What a stopped or killed run left: only ever a temporary directory, never a half-installed node.
        for leftover in os.listdir(STATE):
            if leftover.startswith(TEMP_PREFIX):
                shutil.rmtree(os.path.join(STATE, leftover), ignore_errors=True)
        workdir = tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=STATE)
        try:
            node = install_node(workdir)
            install_packages(node)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    print("cml-lab is installed; jobs and applications can use launchers/run.py", flush=True)


try:
    OPENER = opener()
    main()
except InstallError as error:
    sys.stderr.write("cml-lab install: %s\n" % error)
    sys.stderr.flush()
    # SystemExit keeps the kernel's own traceback out of the log; the line above says what failed.
    raise SystemExit(1)
