import { isUserError } from "../shared/errors.js";
import { processIo } from "../shared/io.js";
import { installOutbound } from "../shared/outbound.js";
import { main } from "./main.js";

// Proxy and CA settings apply to every outbound call of this process, so they are installed before anything runs.
try {
  installOutbound();
  process.exitCode = await main(process.argv.slice(2), processIo());
} catch (error) {
  if (!isUserError(error)) throw error;
  process.stderr.write(`error: ${error.message}\n${error.notes.map((note) => `  ${note}\n`).join("")}`);
  process.exitCode = 1;
}
