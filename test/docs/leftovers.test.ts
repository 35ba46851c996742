/**
 * The "nothing left running" check of the docs suite and the fresh-clone check (scripts/leftovers.mjs) finds a
 * process that works in the directory, the port it listens on, and a port that still answers; and finds nothing
 * once the process is gone.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { leftovers } from "../../scripts/leftovers.mjs";

const dir = realpathSync(mkdtempSync(join(tmpdir(), "cml-lab-leftovers-")));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("reports a server left in the directory, then nothing once it is gone", async () => {
  const server = spawn(
    process.execPath,
    ["-e", "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port))"],
    { cwd: dir, stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve) => server.stdout.once("data", (d) => resolve(Number(String(d)))));
  const found = await leftovers(dir, [port]);
  expect(found).toEqual([
    `pid ${server.pid} (works in ${dir}, listening on 127.0.0.1:${port}): ${process.execPath} -e ${server.spawnargs[2]}`,
    `127.0.0.1:${port} still accepts connections`,
  ]);
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill();
  await exited;
  expect(await leftovers(dir, [port])).toEqual([]);
});
