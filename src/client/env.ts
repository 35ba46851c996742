/**
 * Configuration from the environment: explicit CML_API_URL/CML_API_KEY first, then what CML injects into
 * every workload (CDSW_API_URL is the v1 URL; CDSW_APIV2_KEY is the v2 key; openapi/FACTS.md §3).
 */
import { UserError } from "../shared/errors.js";
import { type CmlClient, type CmlClientOptions, createCmlClient } from "./client.js";

export interface CmlConnection {
  baseUrl: string;
  apiKey: string;
  /** Which variables supplied it, for messages. */
  source: string;
}

export function connectionFromEnv(env: NodeJS.ProcessEnv = process.env): CmlConnection {
  const url = env.CML_API_URL || env.CDSW_API_URL || (env.CDSW_DOMAIN ? `https://${env.CDSW_DOMAIN}` : undefined);
  const key = env.CML_API_KEY || env.CDSW_APIV2_KEY;
  if (!url || !key) {
    const missing = [
      !url && "CML_API_URL (or CDSW_API_URL / CDSW_DOMAIN inside CML)",
      !key && "CML_API_KEY (or CDSW_APIV2_KEY inside CML)",
    ]
      .filter(Boolean)
      .join(" and ");
    throw new UserError(`no CML workspace configured: set ${missing}`, {
      notes: [
        "CML_API_URL is the workbench URL, e.g. https://ml-1234.example.cloudera.site",
        "CML_API_KEY is an API v2 key (User Settings → API Keys)",
      ],
    });
  }
  const source = env.CML_API_URL ? "CML_API_URL" : env.CDSW_API_URL ? "CDSW_API_URL" : "CDSW_DOMAIN";
  return { baseUrl: url, apiKey: key, source };
}

export function createCmlClientFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: Omit<CmlClientOptions, "baseUrl" | "apiKey"> = {},
): CmlClient {
  const { baseUrl, apiKey } = connectionFromEnv(env);
  return createCmlClient({ ...options, baseUrl, apiKey });
}
