/**
 * Where a deploy command sends its API calls: the local platform started by `deploy local up`
 * (found through `<data dir>/server.json`), or a real workspace configured by environment variables.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type CmlClient, type CmlConnection, connectionFromEnv, createCmlClient } from "../client/index.js";
import { readServerRecord, type ServerRecord, serverRecordFile } from "../local/server-record.js";
import { UserError } from "../shared/errors.js";
import type { CliIo } from "../shared/io.js";

export const DEFAULT_LOCAL_DATA_DIR = ".cml-local";

export interface ConnectionRequest {
  /** `local`, or anything else for a real workspace; undefined = env if configured, else the local platform. */
  target?: string;
  dataDir?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export async function resolveConnection(request: ConnectionRequest): Promise<CmlConnection> {
  const dataDir = resolve(request.cwd, request.dataDir ?? DEFAULT_LOCAL_DATA_DIR);
  if (request.target === "local") return localConnection(dataDir);
  if (request.target !== undefined || request.env.CML_API_URL || request.env.CDSW_API_URL)
    return connectionFromEnv(request.env);
  const record = await readLocalServerRecord(dataDir);
  if (record) return localConnection(dataDir);
  return connectionFromEnv(request.env);
}

/** For commands without a manifest (api, import, app set-script): `--target`/`--data-dir` → a client. */
export async function connectFromArgs(
  args: { target?: string | undefined; "data-dir"?: string | undefined },
  io: Pick<CliIo, "env" | "cwd">,
): Promise<{ connection: CmlConnection; api: CmlClient }> {
  const connection = await resolveConnection({
    target: args.target,
    dataDir: args["data-dir"],
    env: io.env,
    cwd: io.cwd,
  });
  return { connection, api: createCmlClient({ baseUrl: connection.baseUrl, apiKey: connection.apiKey }) };
}

/** The running local platform's record; a file that is not one is the user's to fix, not something to skip. */
export async function readLocalServerRecord(dataDir: string): Promise<ServerRecord | undefined> {
  const record = await readServerRecord(dataDir);
  if (record !== "invalid") return record;
  throw new UserError(`${serverRecordFile(dataDir)} is not a local platform record`, {
    notes: ["run `deploy local down` and `deploy local up` to rewrite it"],
  });
}

async function localConnection(dataDir: string): Promise<CmlConnection> {
  const record = await readLocalServerRecord(dataDir);
  if (!record) {
    throw new UserError(`the local platform is not running (no ${serverRecordFile(dataDir)})`, {
      notes: ["start it with `deploy local up`, or point at a workspace with CML_API_URL and CML_API_KEY"],
    });
  }
  const apiKey = (await readFile(resolve(dataDir, record.apiKeyFile), "utf8")).trim();
  return { baseUrl: record.apiUrl, apiKey, source: `local platform (${dataDir})` };
}
