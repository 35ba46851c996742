/**
 * Which model back-ends this process can use, and why not, from the environment (a CML application's env
 * configures the app). Reasons name the variable to set; they never contain a value.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { bedrockNotInstalled, bedrockRegion, createBedrockModel } from "./bedrock.js";
import { createCmlModel } from "./cml.js";
import { createOfflineModel } from "./offline.js";
import { createOpenAiModel } from "./openai.js";
import { type ChatModel, MODEL_IDS, type ModelId } from "./types.js";

export interface ModelChoice {
  id: ModelId;
  label: string;
  available: boolean;
  /** Why it is unavailable (what to set), or what it is when available. */
  detail: string;
}

const LABELS: Record<ModelId, string> = {
  offline: "Offline extractive (no network)",
  bedrock: "Amazon Bedrock (Claude)",
  cml: "CML model endpoint (Mistral)",
  openai: "Cloudera AI Inference (OpenAI-compatible)",
};

export function parseModelId(value: string): ModelId | undefined {
  return MODEL_IDS.find((id) => id === value);
}

/** CML_LAB_MODELS="offline,bedrock" limits the choices shown; unset means all four. */
function allowedModels(env: NodeJS.ProcessEnv): Set<string> | undefined {
  const list = env.CML_LAB_MODELS?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return list && list.length > 0 ? new Set(list) : undefined;
}

export function modelChoices(env: NodeJS.ProcessEnv): ModelChoice[] {
  const allowed = allowedModels(env);
  return MODEL_IDS.filter((id) => !allowed || allowed.has(id)).map((id) => {
    const missing = missingModelConfig(id, env);
    return {
      id,
      label: LABELS[id],
      available: missing === undefined,
      detail: missing ?? describeConfigured(id, env),
    };
  });
}

function describeConfigured(id: ModelId, env: NodeJS.ProcessEnv): string {
  switch (id) {
    case "offline":
      return "answers with sentences from the retrieved sources";
    case "bedrock":
      return `${env.CML_LAB_BEDROCK_MODEL_ID} in ${bedrockRegion(env)}`;
    case "cml":
      return `model endpoint ${safeHost(cmlModelUrl(env))}`;
    case "openai":
      return `${openAiModel(env)} at ${safeHost(openAiBaseUrl(env))}`;
  }
}

function safeHost(url: string | undefined): string {
  try {
    return url ? new URL(url).host : "";
  } catch {
    return "(invalid URL)";
  }
}

/**
 * The CML model endpoint: CML_LAB_CML_MODEL_URL, else the workspace's own model service. Inside a CML workload
 * that is https://modelservice.<CDSW_DOMAIN>/model (openapi/FACTS.md §8); the local platform names its model service in
 * CML_LOCAL_MODEL_SERVICE_URL because it has no modelservice.<domain> host.
 */
export function cmlModelUrl(env: NodeJS.ProcessEnv): string | undefined {
  if (env.CML_LAB_CML_MODEL_URL) return env.CML_LAB_CML_MODEL_URL;
  if (env.CML_LOCAL_MODEL_SERVICE_URL) return `${env.CML_LOCAL_MODEL_SERVICE_URL.replace(/\/+$/, "")}/model`;
  if (env.CDSW_DOMAIN) return `https://modelservice.${env.CDSW_DOMAIN}/model`;
  return undefined;
}

const openAiBaseUrl = (env: NodeJS.ProcessEnv) => env.CML_LAB_OPENAI_BASE_URL || env.CLDR_BASE_URL;
const openAiModel = (env: NodeJS.ProcessEnv) => env.CML_LAB_OPENAI_MODEL || env.CLDR_MODEL_ID;
const openAiKey = (env: NodeJS.ProcessEnv) => env.CML_LAB_OPENAI_API_KEY || env.INFERENCE_KEY;

/** Undefined when configured; else what is missing, in words. */
export function missingModelConfig(id: ModelId, env: NodeJS.ProcessEnv): string | undefined {
  switch (id) {
    case "offline":
      return undefined;
    case "bedrock": {
      if (!env.CML_LAB_BEDROCK_MODEL_ID)
        return "set CML_LAB_BEDROCK_MODEL_ID (a Bedrock model or inference-profile id)";
      if (!awsCredentialsFound(env))
        return "AWS credentials not found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a Bedrock API key in AWS_BEARER_TOKEN_BEDROCK)";
      return bedrockNotInstalled();
    }
    case "cml": {
      const url = cmlModelUrl(env);
      if (!url) return "set CML_LAB_CML_MODEL_URL (https://modelservice.<domain>/model)";
      if (!validHttpUrl(url)) return "CML_LAB_CML_MODEL_URL is not an http(s) URL";
      return env.CML_LAB_CML_MODEL_ACCESS_KEY ? undefined : "set CML_LAB_CML_MODEL_ACCESS_KEY (the model's access key)";
    }
    case "openai": {
      const base = openAiBaseUrl(env);
      if (!base) return "set CML_LAB_OPENAI_BASE_URL (or CLDR_BASE_URL)";
      if (!validHttpUrl(base)) return "CML_LAB_OPENAI_BASE_URL is not an http(s) URL";
      if (!openAiModel(env)) return "set CML_LAB_OPENAI_MODEL (or CLDR_MODEL_ID)";
      return openAiKey(env) ? undefined : "set CML_LAB_OPENAI_API_KEY (or INFERENCE_KEY)";
    }
  }
}

function validHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/**
 * A cheap look at the places the default chain reads, so /api/config can say "not found" without a network
 * call. The SDK still resolves credentials itself at call time (SSO, metadata services included).
 */
function awsCredentialsFound(env: NodeJS.ProcessEnv): boolean {
  // A Bedrock API key: the SDK sends it as a bearer token instead of signing (src/workloads/FACTS.md §B1).
  if (env.AWS_BEARER_TOKEN_BEDROCK) return true;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return true;
  if (env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE) return true;
  if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return true;
  const home = env.HOME || homedir();
  return existsSync(env.AWS_SHARED_CREDENTIALS_FILE || join(home, ".aws", "credentials"));
}

/** The back-end for `id`, or a reason it cannot be used. */
export function createModel(
  id: ModelId,
  env: NodeJS.ProcessEnv,
  fetchImpl?: typeof fetch,
): ChatModel | { unavailable: string } {
  const allowed = allowedModels(env);
  if (allowed && !allowed.has(id)) return { unavailable: `model ${id} is not enabled here (CML_LAB_MODELS)` };
  const missing = missingModelConfig(id, env);
  if (missing) return { unavailable: `model ${id} is not configured: ${missing}` };
  const timeoutMs = env.CML_LAB_MODEL_TIMEOUT_MS ? Number(env.CML_LAB_MODEL_TIMEOUT_MS) : undefined;
  const timeout = timeoutMs && timeoutMs > 0 ? { timeoutMs } : {};
  switch (id) {
    case "offline":
      return createOfflineModel();
    case "bedrock":
      return createBedrockModel({
        modelId: env.CML_LAB_BEDROCK_MODEL_ID ?? "",
        region: bedrockRegion(env),
        secrets: [env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN].filter((s): s is string =>
          Boolean(s),
        ),
        ...timeout,
      });
    case "cml":
      return createCmlModel({
        url: cmlModelUrl(env) ?? "",
        accessKey: env.CML_LAB_CML_MODEL_ACCESS_KEY ?? "",
        ...(env.CML_LAB_CML_API_KEY ? { apiKey: env.CML_LAB_CML_API_KEY } : {}),
        ...(fetchImpl ? { fetch: fetchImpl } : {}),
        ...timeout,
      });
    case "openai":
      return createOpenAiModel({
        baseUrl: openAiBaseUrl(env) ?? "",
        model: openAiModel(env) ?? "",
        ...(openAiKey(env) ? { apiKey: openAiKey(env) } : {}),
        ...(fetchImpl ? { fetch: fetchImpl } : {}),
        ...timeout,
      });
  }
}
