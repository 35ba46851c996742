// What a run left behind in a directory (a clone, a temporary copy of the repository): processes that work in it
// or name it, and the loopback ports they listen on. Linux only (/proc); used by scripts/fresh-clone-check.mjs and
// the docs-as-tests suite (test/docs) after `npm stop`.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { connect } from "node:net";

function read(file) {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function link(file) {
  try {
    return readlinkSync(file);
  } catch {
    return "";
  }
}

function inside(path, dir) {
  return path === dir || path.startsWith(`${dir}/`);
}

/**
 * Live processes (zombies hold nothing and are left out) whose working directory is in `dir`, or whose command
 * line or environment names it: a workload started by the local platform of that directory carries its data
 * directory in CML_LOCAL_WORKLOAD. This process and its ancestors are never counted.
 */
export function processesIn(dir) {
  const ancestors = new Set();
  for (let pid = process.pid; pid > 1; ) {
    ancestors.add(pid);
    pid = Number(/^\d+ \(.*\) \S+ (\d+)/s.exec(read(`/proc/${pid}/stat`))?.[1] ?? 0);
  }
  const found = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (ancestors.has(pid)) continue;
    const stat = read(`/proc/${pid}/stat`);
    if (!stat || /^\d+ \(.*\) Z/s.test(stat)) continue;
    const cwd = link(`/proc/${pid}/cwd`);
    const cmdline = read(`/proc/${pid}/cmdline`).split("\0").join(" ").trim();
    const why = inside(cwd, dir)
      ? `works in ${cwd}`
      : cmdline.includes(dir)
        ? "its command line names it"
        : read(`/proc/${pid}/environ`).includes(dir)
          ? "its environment names it"
          : undefined;
    if (why) found.push({ pid, command: cmdline || `(pid ${pid})`, why });
  }
  return found;
}

/** TCP ports in LISTEN state held by the given processes. */
export function listeningPorts(pids) {
  const inodes = new Map();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"])
    for (const line of read(file).split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === "0A") inodes.set(cols[9], Number.parseInt(cols[1]?.split(":").at(-1) ?? "0", 16));
    }
  const ports = new Set();
  for (const pid of pids) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const inode = /^socket:\[(\d+)\]$/.exec(link(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode && inodes.has(inode)) ports.add(inodes.get(inode));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function portAnswers(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (answered) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Everything of `dir` still running or listening, as lines for a report: its processes (with their listening
 * ports) and any of `ports` (ones the run printed) that still accept connections.
 */
export async function leftovers(dir, ports = []) {
  const processes = processesIn(dir);
  const lines = processes.map((p) => {
    const listening = listeningPorts([p.pid]);
    const on = listening.length > 0 ? `, listening on ${listening.map((n) => `127.0.0.1:${n}`).join(", ")}` : "";
    return `pid ${p.pid} (${p.why}${on}): ${p.command}`;
  });
  for (const port of [...new Set(ports)].sort((a, b) => a - b))
    if (await portAnswers(port)) lines.push(`127.0.0.1:${port} still accepts connections`);
  return lines;
}
