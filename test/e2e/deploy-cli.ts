/** `deploy …` in-process against the local platform of a data directory, as a user types it: one output stream. */
import { main as deploy } from "../../src/deploy/main.js";
import type { CliIo } from "../../src/shared/io.js";

export function deployCliFor(
  dataDir: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): (argv: string[]) => Promise<{ code: number; out: string }> {
  return async (argv) => {
    let out = "";
    const io: CliIo = {
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        out += t;
      },
      isTTY: false,
      env,
      cwd,
    };
    const code = await deploy([...argv, "--data-dir", dataDir], io);
    return { code, out };
  };
}
