/**
 * `<data dir>/server.json`: what the background local platform writes once it listens, so that `deploy local`
 * and every `--target local` command can find it. One type, one reader, one writer; 0600, like the API key.
 */
import { readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../shared/atomic-write.js";
import { parseShaped, shapeOf } from "../shared/json-shape.js";

export const SERVER_RECORD = "server.json";

export interface ServerRecord {
  apiUrl: string;
  /** Absolute, or relative to the data dir. */
  apiKeyFile: string;
  dataDir: string;
  pid: number;
  modelServiceUrl?: string;
}

const isServerRecord = shapeOf<ServerRecord>({
  type: "object",
  properties: {
    apiUrl: { type: "string" },
    apiKeyFile: { type: "string" },
    dataDir: { type: "string" },
    pid: { type: "integer" },
    modelServiceUrl: { type: "string" },
  },
  required: ["apiUrl", "apiKeyFile", "pid"],
  additionalProperties: true,
});

export function serverRecordFile(dataDir: string): string {
  return join(dataDir, SERVER_RECORD);
}

/** The record of `dataDir`: undefined when there is none, "invalid" when the file is not a record. */
export async function readServerRecord(dataDir: string): Promise<ServerRecord | "invalid" | undefined> {
  let text: string;
  try {
    text = await readFile(serverRecordFile(dataDir), "utf8");
  } catch {
    return undefined;
  }
  const record = parseShaped(text, isServerRecord);
  // The data dir is where we found it, whatever the record says (it may have been moved).
  return record ? { ...record, dataDir } : "invalid";
}

/** The API key of a running platform, from the file its record names (relative to the data dir it was found in). */
export async function readServerApiKey(record: ServerRecord): Promise<string> {
  return (await readFile(resolve(record.dataDir, record.apiKeyFile), "utf8")).trim();
}

export function writeServerRecord(record: ServerRecord): Promise<void> {
  return writeFileAtomic(serverRecordFile(record.dataDir), `${JSON.stringify(record, null, 2)}\n`, 0o600);
}

export function removeServerRecord(dataDir: string): Promise<void> {
  return rm(serverRecordFile(dataDir), { force: true });
}
