// The first minutes of a new user, from a fresh clone of the committed tree (issue 15): `npm ci`, `npm start`, the
// README's query command verbatim, `npm stop`; then nothing of the clone may still run or listen.
// `.ci/run` runs it after the tests; by hand: node scripts/fresh-clone-check.mjs. Prints each step with its time
// and ends with one PASS or FAIL line; exits 1 on FAIL.
//
// npm ci reuses the npm cache and prefers it to the network. The query's npx links the clone into a private
// npm cache (npm exec does that for a package's own bins), removed with the clone, so ~/.npm gains nothing.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { leftovers } from "./leftovers.mjs";

const source = fileURLToPath(new URL("..", import.meta.url));
const base = realpathSync(mkdtempSync(join(tmpdir(), "cml-lab-clone-")));
const clone = join(base, "cml-lab");
const started = Date.now();
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

// A new user's environment: no workspace, cloud or proxy settings of whoever runs the check, nothing of npm's own
// run (when started from an npm script), and PORT unset as in a new shell.
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !/^(CML_|CDSW_|AWS_|PINECONE_|OPENAI_|CHROMA_|npm_|PORT$|INIT_CWD$)/.test(name),
  ),
);
env.PATH = (process.env.PATH ?? "")
  .split(":")
  .filter((dir) => dir && !dir.includes("node_modules/.bin") && !dir.includes("node-gyp-bin"))
  .join(":");

/** Runs a shell command in the clone; resolves with its exit code and output (also echoed, indented). */
function sh(command, extraEnv = {}) {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", `exec 2>&1\n${command}`], {
      cwd: clone,
      env: { ...env, ...extraEnv },
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      out += chunk;
    });
    child.on("close", (code) => resolve({ code, out }));
  });
}

const failures = [];
const ports = new Set();

async function step(name, command, check = () => undefined, extraEnv = {}) {
  const since = Date.now();
  const { code, out } = await sh(command, extraEnv);
  for (const m of out.matchAll(/127\.0\.0\.1:(\d+)/g)) ports.add(Number(m[1]));
  const problem = code !== 0 ? `exit ${code}` : check(out);
  console.log(`${problem ? "FAIL" : "ok  "} ${name} (${seconds(since)})${problem ? `: ${problem}` : ""}`);
  if (problem) {
    failures.push(`${name}: ${problem}`);
    console.log(
      out
        .trimEnd()
        .split("\n")
        .slice(-40)
        .map((l) => `     | ${l}`)
        .join("\n"),
    );
  }
  return { ok: !problem, out };
}

/** The README's query command as written there (the line a user copies). */
function readmeQuery() {
  const readme = readFileSync(join(clone, "README.md"), "utf8");
  const line = readme.split("\n").find((l) => /^(\$ )?npx cml-lab query /.test(l));
  if (!line) throw new Error("README.md shows no `npx cml-lab query` command");
  return line.replace(/^\$ /, "").trim();
}

async function main() {
  const head = spawnSync("git", ["-C", source, "rev-parse", "HEAD"], { encoding: "utf8" }).stdout.trim();
  const dirty = spawnSync("git", ["-C", source, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" })
    .stdout.trim()
    .split("\n")
    .filter(Boolean).length;
  console.log(`fresh clone of ${head.slice(0, 12)} in ${clone}`);
  if (dirty > 0) console.log(`note: ${dirty} uncommitted changes in ${source} are not part of the check`);

  const since = Date.now();
  const cloned = spawnSync("git", ["clone", "--quiet", "--no-checkout", source, clone], { encoding: "utf8" });
  const checkout = cloned.status === 0 && spawnSync("git", ["-C", clone, "checkout", "--quiet", head]).status === 0;
  console.log(`${checkout ? "ok  " : "FAIL"} git clone (${seconds(since)})`);
  if (!checkout) {
    failures.push(`git clone: ${cloned.stderr.trim()}`);
    return;
  }
  // A private cache for npx only (below); npm ci uses the usual one.
  const npxCache = join(base, "npx-cache");
  mkdirSync(npxCache);

  if (!(await step("npm ci", "npm ci --prefer-offline --no-audit --no-fund")).ok) return;
  const start = await step("npm start", "npm start", (out) =>
    /Open the chat app:\s+http:\/\/127\.0\.0\.1:\d+/.test(out) ? undefined : "no chat app URL in its output",
  );
  if (start.ok) {
    const query = readmeQuery();
    console.log(`     the README's query: ${query}`);
    await step(
      "the README's query",
      query,
      (out) =>
        !out.includes("Answer (offline, store chroma):")
          ? "no answer from the lab's Chroma"
          : !out.includes("/tutorial/datastructures.html#list-comprehensions")
            ? "no source on list comprehensions"
            : undefined,
      { npm_config_cache: npxCache },
    );
  }
  await step("npm stop", "npm stop", (out) =>
    /stopped the local platform/.test(out) ? undefined : "it did not stop a running platform",
  );
  const left = await leftovers(base, [...ports]);
  console.log(`${left.length === 0 ? "ok  " : "FAIL"} nothing of the clone runs or listens after npm stop`);
  for (const line of left) console.log(`     | ${line}`);
  if (left.length > 0) failures.push(`left running after npm stop: ${left.length}`);
}

try {
  await main();
} catch (error) {
  failures.push(error instanceof Error ? error.message : String(error));
} finally {
  // Whatever a failed step left: the clone's platform and its workloads, then the clone (its node_modules is
  // most of the clean-up's time).
  const since = Date.now();
  spawnSync("node", ["bin/cml-lab.js", "stop"], { cwd: clone, env, stdio: "ignore" });
  for (const line of await leftovers(base)) {
    const pid = Number(/^pid (\d+)/.exec(line)?.[1]);
    if (pid) spawnSync("kill", ["-9", String(pid)]);
  }
  rmSync(base, { recursive: true, force: true });
  console.log(`     clean-up: the clone removed (${seconds(since)})`);
}
console.log(
  failures.length === 0
    ? `fresh-clone check: PASS (${seconds(started)})`
    : `fresh-clone check: FAIL (${seconds(started)}): ${failures.join("; ")}`,
);
process.exit(failures.length === 0 ? 0 : 1);
