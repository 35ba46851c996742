import { isUserError } from "./errors.js";
import { type CliIo, processIo } from "./io.js";
import { installOutbound } from "./outbound.js";

/**
 * What both bins do: install the proxy and CA settings (they apply to every outbound call of the process, so
 * before anything runs), run `main` with the process's I/O and set the exit code. A UserError thrown while
 * installing them (a bad CA bundle path) is one plain line.
 */
export async function runBin(main: (argv: string[], io: CliIo) => Promise<number>): Promise<void> {
  try {
    installOutbound();
    process.exitCode = await main(process.argv.slice(2), processIo());
  } catch (error) {
    if (!isUserError(error)) throw error;
    process.stderr.write(`error: ${error.message}\n${error.notes.map((note) => `  ${note}\n`).join("")}`);
    process.exitCode = 1;
  }
}
