/** A CliIo that keeps what a command prints, for in-process runs of `main(argv, io)`. */
import type { CliIo } from "../../src/shared/io.js";

export function bufferIo(env: NodeJS.ProcessEnv, cwd: string): { io: CliIo; out: { stdout: string; stderr: string } } {
  const out = { stdout: "", stderr: "" };
  const io: CliIo = {
    stdout: (text) => {
      out.stdout += text;
    },
    stderr: (text) => {
      out.stderr += text;
    },
    isTTY: false,
    env,
    cwd,
  };
  return { io, out };
}
