/**
 * Entry point of the background server that `deploy local up` starts:
 * `node dist/local/serve.js --data-dir DIR [--port N]`. Writes `<dataDir>/server.json` once listening (the
 * record `deploy --target local` reads), and on SIGTERM/SIGINT ends every workload and removes the record.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { API_KEY_FILE, startLocalPlatform } from "./platform.js";
import { removeServerRecord, writeServerRecord } from "./server-record.js";

const { values } = parseArgs({
  options: { "data-dir": { type: "string" }, port: { type: "string", default: "0" } },
});
const dataDir = values["data-dir"];
if (!dataDir) {
  process.stderr.write("serve: --data-dir is required\n");
  process.exit(2);
}
const stamp = () => new Date().toISOString();
const platform = await startLocalPlatform({
  dataDir,
  port: Number(values.port ?? "0"),
  log: (line) => process.stdout.write(`${stamp()} ${line}\n`),
});
await writeServerRecord({
  apiUrl: platform.apiUrl,
  apiKeyFile: join(platform.dataDir, API_KEY_FILE),
  dataDir: platform.dataDir,
  pid: process.pid,
  modelServiceUrl: platform.modelServiceUrl,
});
process.stdout.write(`${stamp()} serving ${platform.apiUrl} (model service ${platform.modelServiceUrl})\n`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`${stamp()} ${signal}: stopping workloads\n`);
  await platform.close();
  await removeServerRecord(platform.dataDir);
  process.stdout.write(`${stamp()} stopped\n`);
  process.exit(0);
};
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
