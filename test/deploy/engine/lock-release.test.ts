/**
 * Taking the stack lock rides out a few failing calls but not a workspace that stopped answering (issue #20: that
 * held apply for the whole --lock-timeout). Releasing the stack lock survives a failing call (the shared retry of src/shared/retry.ts), and when the API
 * keeps failing it stops within bounds with a UserError that says how to break the lock by hand. The client here
 * does not retry on its own, so every failure the platform injects reaches the lock's own retry.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCmlClient, unwrap } from "../../../src/client/index.js";
import { readProjectFileText } from "../../../src/deploy/engine/live.js";
import { acquireLock, lockPath } from "../../../src/deploy/engine/lock.js";
import { UserError } from "../../../src/shared/errors.js";
import { startTestPlatform, type TestPlatform } from "../../local/helpers.js";

let tp: TestPlatform;
let projectId: string;
const stack = "release-test";

beforeAll(async () => {
  tp = await startTestPlatform();
  const project = await unwrap(tp.api.POST("/api/v2/projects", { body: { name: "Release", template: "blank" } }));
  projectId = project.id ?? "";
}, 30_000);
afterAll(() => tp?.close());

async function take(timeoutMs = 10_000) {
  const api = createCmlClient({ baseUrl: tp.platform.apiUrl, apiKey: tp.platform.apiKey, retry: false });
  return acquireLock({
    api,
    apiUrl: tp.platform.apiUrl,
    stack,
    project: "Release",
    projectId,
    env: { CML_LAB_LOCK_DIR: mkdtempSync(join(tmpdir(), "cml-lab-lock-")) },
    timeoutMs,
  });
}

const lockFileCalls = (n?: number) => ({
  errorRate: 1,
  errorStatus: 503,
  match: (call: { path: string }) =>
    call.path.includes(encodeURIComponent(lockPath(stack))) || call.path.includes(lockPath(stack)),
  ...(n ? { times: n } : {}),
});

describe("taking the stack lock", () => {
  it("rides out a few failed lock calls in a row", async () => {
    tp.platform.faults.set(lockFileCalls(3));
    const lock = await take();
    tp.platform.faults.clear();
    await lock.release();
    expect(await readProjectFileText(tp.api, projectId, lockPath(stack))).toBeUndefined();
  }, 30_000);

  it("gives up on a workspace that keeps failing long before --lock-timeout, with the workspace's error", async () => {
    tp.platform.faults.set(lockFileCalls());
    const started = Date.now();
    const error = await take(120_000).then(
      (lock) => lock.release().then(() => undefined),
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    tp.platform.faults.clear();
    expect(String(error)).toMatch(/503/);
    expect(elapsed).toBeLessThan(15_000);
  }, 60_000);
});

describe("releasing the stack lock", () => {
  it("retries a failed read or delete of the lock file and leaves no lock", async () => {
    const lock = await take();
    tp.platform.faults.set(lockFileCalls(2));
    await lock.release();
    tp.platform.faults.clear();
    expect(await readProjectFileText(tp.api, projectId, lockPath(stack))).toBeUndefined();
  }, 30_000);

  it("gives up within bounds with a UserError saying how to break the lock", async () => {
    const lock = await take();
    tp.platform.faults.set(lockFileCalls());
    const started = Date.now();
    const error = await lock.release().then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    tp.platform.faults.clear();
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain(`could not release the stack lock ${lockPath(stack)}`);
    expect((error as UserError).notes.join("\n")).toContain(`delete ${lockPath(stack)} from the project`);
    expect(elapsed).toBeLessThan(15_000);
    // Still there, as the message says: the next apply finds it (and its expiry).
    expect(await readProjectFileText(tp.api, projectId, lockPath(stack))).toContain('"token"');
  }, 30_000);
});
