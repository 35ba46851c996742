/**
 * A stack lock whose holder is provably gone is taken over (issue 19 item 6): the takeover rule as a unit, and a
 * real apply (bin/deploy.js, a child process) killed with SIGKILL at several points, then re-run from another
 * simulated machine against the same in-process local platform.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findOneByName } from "../../../src/client/index.js";
import { readProjectFileText } from "../../../src/deploy/engine/live.js";
import { type LockHolder, MISSED_BEATS, staleReason } from "../../../src/deploy/engine/lock.js";
import { startTestPlatform, type TestPlatform } from "../../local/helpers.js";
import { deploy, inventory, writeTree } from "./harness.js";
import { MANIFEST, SOURCES } from "./runner-stack.js";

const BIN = fileURLToPath(new URL("../../../bin/deploy.js", import.meta.url));

describe("the takeover rule", () => {
  const holder: LockHolder = {
    token: "t1",
    host: "ci-runner-7",
    pid: 4242,
    startedAt: "2026-01-01T00:00:00Z",
    expiresAt: "2999-01-01T00:00:00Z",
    heartbeatMs: 1_000,
  };
  const now = Date.parse("2026-06-01T00:00:00Z");
  const dead = () => false;
  const living = () => true;

  it("takes over from another host only when its beat has not moved for more than MISSED_BEATS beats", () => {
    const quiet = (ms: number) => ({ token: "t1", beat: 5, since: now - ms });
    expect(staleReason(holder, { now, host: "me", seen: quiet(MISSED_BEATS * 1_000 + 1), alive: dead })).toMatch(
      /heartbeat stopped/,
    );
    // Just within the bound, or never watched yet: it may be alive.
    expect(staleReason(holder, { now, host: "me", seen: quiet(MISSED_BEATS * 1_000), alive: dead })).toBeUndefined();
    expect(staleReason(holder, { now, host: "me", alive: dead })).toBeUndefined();
    // A beat watched for another holder says nothing about this one.
    expect(
      staleReason(holder, { now, host: "me", seen: { token: "t0", beat: 1, since: 0 }, alive: dead }),
    ).toBeUndefined();
  });

  it("on the same host, takes over when the pid is dead and never when it lives", () => {
    const here = { ...holder, host: "me" };
    expect(staleReason(here, { now, host: "me", alive: dead })).toMatch(/process 4242 on this host is gone/);
    expect(staleReason(here, { now, host: "me", alive: living })).toBeUndefined();
    // A pid on another host means nothing here.
    expect(staleReason(holder, { now, host: "me", alive: dead })).toBeUndefined();
  });

  it("an expired lock is stale; a lock from before heartbeats only expires", () => {
    expect(staleReason({ ...holder, expiresAt: "2001-01-01T00:00:00Z" }, { now, host: "me" })).toMatch(/expired/);
    const { heartbeatMs: _, ...old } = holder;
    expect(
      staleReason(old, { now, host: "me", seen: { token: "t1", beat: -1, since: 0 }, alive: dead }),
    ).toBeUndefined();
  });
});

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(async () => {
  await tp?.close();
});

describe("an apply killed with SIGKILL, re-run from another machine", () => {
  it("converges with no duplicates and no stale lock blocking", async () => {
    const base = { CML_API_URL: tp.platform.apiUrl, CML_API_KEY: tp.platform.apiKey, CML_LAB_LOCK_HEARTBEAT_MS: "200" };
    // Where to kill: ms after the lock file appears in the project, or after the start (lock or not).
    const points = [
      { afterLock: 0 },
      { afterLock: 50 },
      { afterLock: 150 },
      { afterLock: 300 },
      { afterStart: 200 },
      { afterStart: 600 },
    ];
    let lockLeft = 0;
    let tookOver = 0;
    let finishedFirst = 0;
    let changedFirst = 0;
    for (const [i, point] of points.entries()) {
      const name = `Killed ${i}`;
      const dir = writeTree({ "lab.yaml": MANIFEST(name), ...SOURCES });
      const machine = (host: string) => ({
        ...base,
        CML_LAB_LOCK_HOST: host,
        CML_LAB_LOCK_DIR: path.join(dir, `.locks-${host}`),
      });
      const child = spawn(process.execPath, [BIN, "apply", "lab.yaml", "--auto-approve"], {
        cwd: dir,
        env: { ...process.env, ...machine("host-a") },
        stdio: "ignore",
      });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      if ("afterLock" in point) await lockAppears(name, child);
      await new Promise((r) => setTimeout(r, "afterLock" in point ? point.afterLock : point.afterStart));
      if (child.exitCode !== null) finishedFirst++;
      child.kill("SIGKILL");
      const code = await exited;
      const project = await findOneByName(tp.api, "project", { name });
      const left =
        project?.id && (await readProjectFileText(tp.api, project.id, ".cml-lab/runner.lock.json")) !== undefined;

      const again = await deploy(["apply", "lab.yaml", "--lock-timeout", "30"], machine("host-b"), dir);
      expect(again.code, `kill point ${JSON.stringify(point)} (child exit ${code}): ${again.out}${again.err}`).toBe(0);
      if (/took over the stack lock \(held by host-a pid \d+ .*\): its heartbeat stopped/.test(again.err)) tookOver++;
      // Killed after making every change but before releasing its lock (on a platform without latency the apply
      // can finish within the kill delay): host-b has nothing to do, and a plan with nothing to do takes no lock
      // (session.ts), so host-a's lock stays until a changing apply takes it over (the destroy below does).
      const changedBeforeKill = again.out.includes("Nothing to do.");
      if (changedBeforeKill) changedFirst++;
      else if (left) lockLeft++;
      const leftLock = (f: string) => changedBeforeKill && f.startsWith(`${name}/.cml-lab/runner.lock`);

      const inv = await inventory(tp.api);
      expect(inv.projects.filter((p) => p === name)).toHaveLength(1);
      expect(inv.jobs.filter((j) => j.startsWith(`${name}/`))).toEqual([
        `${name}/bad`,
        `${name}/populate`,
        `${name}/scrape`,
      ]);
      // No renamed copies (scrape(1).py), no lock or beat files left behind.
      expect(inv.files.filter((f) => f.startsWith(`${name}/`) && !leftLock(f))).toEqual([
        `${name}/.cml-lab/runner.files.json`,
        `${name}/jobs/bad.py`,
        `${name}/jobs/populate.py`,
        `${name}/jobs/scrape.py`,
      ]);
      const plan = await deploy(["plan", "lab.yaml", "--detailed-exitcode"], machine("host-b"), dir);
      expect(plan.code, plan.out).toBe(0);
      await deploy(["destroy", "lab.yaml", "--auto-approve"], machine("host-b"), dir);
    }
    console.log(
      `lock takeover: ${points.length} SIGKILL points tried (${finishedFirst} finished before the kill, ${changedFirst} had made every change), lock left behind in ${lockLeft}, taken over by heartbeat in ${tookOver}, failures: 0`,
    );
    // The test is about the lock: at least one kill must have left it behind for host-b to take over.
    expect(lockLeft).toBeGreaterThan(0);
    expect(tookOver).toBe(lockLeft);
  }, 240_000);
});

/** Resolves as soon as the stack's lock file exists in the project (or the child has exited). */
async function lockAppears(name: string, child: ChildProcess): Promise<void> {
  while (child.exitCode === null) {
    const project = await findOneByName(tp.api, "project", { name }).catch(() => undefined);
    if (
      project?.id &&
      (await readProjectFileText(tp.api, project.id, ".cml-lab/runner.lock.json").catch(() => undefined)) !== undefined
    )
      return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
