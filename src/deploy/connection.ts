/**
 * Where a deploy command sends its API calls: the local platform started by `deploy local up`
 * (found through `<data dir>/server.json`), or a real workspace configured by environment variables.
 */
import {
  type CmlClient,
  type CmlClientOptions,
  type CmlConnection,
  connectionFromEnv,
  createCmlClient,
  rawRequest,
} from "../client/index.js";
import { readServerApiKey, readServerRecord, type ServerRecord, serverRecordFile } from "../local/server-record.js";
import { platformDir } from "../shared/cli-options.js";
import { UserError } from "../shared/errors.js";
import type { CliIo } from "../shared/io.js";
import { shapeOf } from "../shared/json-shape.js";
import type { Platform, Target } from "./engine/kind.js";

export interface ConnectionRequest {
  /** `local`, or anything else for a real workspace; undefined = env if configured, else the local platform. */
  target?: string;
  dataDir?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export async function resolveConnection(request: ConnectionRequest): Promise<CmlConnection> {
  const dataDir = platformDir(request, request.dataDir);
  if (request.target === "local") return localConnection(dataDir);
  if (request.target !== undefined || request.env.CML_API_URL || request.env.CDSW_API_URL)
    return connectionFromEnv(request.env);
  const record = await readLocalServerRecord(dataDir);
  if (record) return localConnection(dataDir);
  return connectionFromEnv(request.env);
}

/** A connection made usable: its client, and what the platform behind it offers beyond CML's API. */
export type { Target };

/** For commands without a manifest (api, import, app set-script): `--target`/`--data-dir` → a client. */
export async function connectFromArgs(
  args: { target?: string | undefined; "data-dir"?: string | undefined },
  io: Pick<CliIo, "env" | "cwd">,
): Promise<Target> {
  const connection = await resolveConnection({
    target: args.target,
    dataDir: args["data-dir"],
    env: io.env,
    cwd: io.cwd,
  });
  return openTarget(connection);
}

/** The local platform's answers to its extension routes (src/local/extension-routes.ts); CML has neither. */
const isPlatformAnswer = shapeOf<{ platform: unknown }>({
  type: "object",
  required: ["platform"],
  properties: { platform: {} },
});
const isEndpointAnswer = shapeOf<{ url: string }>({
  type: "object",
  required: ["url"],
  properties: { url: { type: "string" } },
});

/**
 * A client for the connection, and its platform. Which platform is asked, once and only when something needs it
 * (an application's URL, logs): the local platform answers `GET /cml-lab/platform`; CML does not.
 */
export function openTarget(
  connection: CmlConnection,
  client: Omit<CmlClientOptions, "baseUrl" | "apiKey"> = {},
): Target {
  const api = createCmlClient({ ...client, baseUrl: connection.baseUrl, apiKey: connection.apiKey });
  let known: Promise<Platform> | undefined;
  const platform = () => {
    known ??= rawRequest(api, { method: "GET", path: "/cml-lab/platform" }).then(
      (answer) => (isPlatformAnswer(answer) ? localPlatform(api) : workspacePlatform(connection.baseUrl)),
      () => workspacePlatform(connection.baseUrl),
    );
    return known;
  };
  return {
    connection,
    api,
    platform: {
      appUrl: async (app) => (await platform()).appUrl(app),
      logs: async () => (await platform()).logs(),
    },
  };
}

/** A workspace serves an application at `https://<subdomain>.<workbench domain>` (openapi/FACTS.md §2) and has no log API. */
export function workspacePlatform(apiUrl: string): Platform {
  const url = new URL(apiUrl);
  return { logs: async () => false, appUrl: async (app) => `${url.protocol}//${app.subdomain}.${url.host}` };
}

/** The local platform says where an application's process listens (its `/endpoint` extension) and serves logs. */
export function localPlatform(api: CmlClient): Platform {
  return {
    logs: async () => true,
    appUrl: async (app) => {
      const endpoint = await rawRequest(api, {
        method: "GET",
        path: `/projects/${app.projectId}/applications/${app.id}/endpoint`,
      }).catch(() => undefined);
      return isEndpointAnswer(endpoint) ? endpoint.url : undefined;
    },
  };
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
  const apiKey = await readServerApiKey(record);
  return { baseUrl: record.apiUrl, apiKey, source: `local platform (${dataDir})` };
}
