/**
 * Amazon Bedrock through ConverseStream: `system` + `messages`, `inferenceConfig {maxTokens, temperature}`.
 * Never temperature and topP together (Claude 4.5-family models reject that). Model or inference-profile id
 * comes from config, never a hard-coded default, because Bedrock ids churn. Credentials come from the SDK's
 * default provider chain; the region is resolved here because the JS SDK ignores AWS_DEFAULT_REGION.
 */
import type {
  BedrockRuntimeClient,
  ConverseStreamCommandOutput,
  ConverseStreamOutput,
} from "@aws-sdk/client-bedrock-runtime";
import { UserError } from "../../shared/errors.js";
import { awsRequestHandler } from "../../shared/outbound.js";
import { assertWorkloadPackages, loadWorkload } from "../../shared/workload-packages.js";
import { abortable, CallDeadline } from "./deadline.js";
import { type ChatModel, type GenerateOptions, ModelError, type ModelEvent, type ModelInput } from "./types.js";

export interface BedrockConfig {
  modelId: string;
  region: string;
  /** Idle timeout between stream events (default 60 s). */
  timeoutMs?: number;
  /** Values scrubbed from error text (the AWS keys: signature errors can quote the credential scope). */
  secrets?: readonly string[];
  /** Injected in tests (aws-sdk-client-mock or a client with a fake request handler). */
  client?: BedrockRuntimeClient;
}

export function bedrockRegion(env: NodeJS.ProcessEnv): string {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-west-2";
}

/** What talking to Bedrock takes: workload packages (src/shared/workload-packages.ts), so loaded on first use. */
const BEDROCK_PACKAGES = ["@aws-sdk/client-bedrock-runtime", "@smithy/node-http-handler", "https-proxy-agent"];
const PURPOSE = "Amazon Bedrock";
let sdk: Promise<typeof import("@aws-sdk/client-bedrock-runtime")> | undefined;

/** Checked when a Bedrock model or embedder is made, so a missing SDK is said before the first call. */
export function assertBedrockInstalled(): void {
  assertWorkloadPackages(PURPOSE, BEDROCK_PACKAGES);
}

/** Why Bedrock cannot be used in this install (its packages are missing), in words; undefined when it can. */
export function bedrockNotInstalled(): string | undefined {
  try {
    assertBedrockInstalled();
    return undefined;
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return `${error.message} (${error.notes[0]})`;
  }
}

export function bedrockSdk(): Promise<typeof import("@aws-sdk/client-bedrock-runtime")> {
  sdk ??= loadWorkload(PURPOSE, BEDROCK_PACKAGES, () => import("@aws-sdk/client-bedrock-runtime"));
  return sdk;
}

/**
 * The one way the workloads make a Bedrock Runtime client: through the proxy and CA the environment names
 * (src/shared/outbound.ts), at the endpoint the SDK would use (AWS_ENDPOINT_URL_BEDROCK_RUNTIME or
 * AWS_ENDPOINT_URL when set, a VPC endpoint for instance), so the proxy decision is made for that host.
 */
export async function createBedrockClient(
  region: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BedrockRuntimeClient> {
  const endpoint =
    env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME || env.AWS_ENDPOINT_URL || `https://bedrock-runtime.${region}.amazonaws.com`;
  const [{ BedrockRuntimeClient: Client }, requestHandler] = await Promise.all([
    bedrockSdk(),
    awsRequestHandler(endpoint),
  ]);
  return new Client({ region, ...(requestHandler ? { requestHandler } : {}) });
}

/** The injected client, else one made on the first call (the SDK loads then) and kept. */
export function bedrockClientOnce(region: string, client?: BedrockRuntimeClient): () => Promise<BedrockRuntimeClient> {
  assertBedrockInstalled();
  let made: Promise<BedrockRuntimeClient> | undefined;
  return () => {
    made ??= client ? Promise.resolve(client) : createBedrockClient(region);
    return made;
  };
}

export function createBedrockModel(config: BedrockConfig): ChatModel {
  const client = bedrockClientOnce(config.region, config.client);
  return {
    id: "bedrock",
    describe: () => `Amazon Bedrock ${config.modelId} in ${config.region}`,
    stream: (input, options) => streamBedrock(client, config, input, options),
  };
}

async function* streamBedrock(
  clientOnce: () => Promise<BedrockRuntimeClient>,
  config: BedrockConfig,
  input: ModelInput,
  options: GenerateOptions,
): AsyncIterable<ModelEvent> {
  const [client, { ConverseStreamCommand }] = await Promise.all([clientOnce(), bedrockSdk()]);
  const deadline = new CallDeadline(options.signal, config.timeoutMs ?? 60_000, "Amazon Bedrock");
  let usage: { inputTokens: number; outputTokens: number } | undefined;
  let stopReason: string | undefined;
  try {
    const command = new ConverseStreamCommand({
      modelId: config.modelId,
      system: [{ text: input.system }],
      messages: input.messages.map((m) => ({ role: m.role, content: [{ text: m.content }] })),
      inferenceConfig: { maxTokens: Math.round(options.maxTokens), temperature: options.temperature },
    });
    const response: ConverseStreamCommandOutput = await client.send(command, { abortSignal: deadline.signal });
    if (!response.stream) throw new ModelError("upstream", "Amazon Bedrock returned no stream");
    for await (const event of abortable<ConverseStreamOutput>(response.stream, deadline.signal)) {
      deadline.touch();
      const failure = streamFailure(event);
      if (failure) throw new ModelError("upstream", `Amazon Bedrock: ${failure}`);
      const text = event.contentBlockDelta?.delta?.text;
      if (text) yield { type: "delta", text };
      if (event.messageStop?.stopReason) stopReason = event.messageStop.stopReason;
      const reported = event.metadata?.usage;
      if (reported) usage = { inputTokens: reported.inputTokens ?? 0, outputTokens: reported.outputTokens ?? 0 };
    }
  } catch (error) {
    throw deadline.toError(bedrockError(error), config.secrets ?? []);
  } finally {
    deadline.done();
  }
  yield {
    type: "usage",
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    estimated: usage === undefined,
    ...(stopReason ? { stopReason } : {}),
  };
}

/** Exceptions Bedrock delivers as stream events rather than as a failed response. */
function streamFailure(event: ConverseStreamOutput): string | undefined {
  const failure =
    event.internalServerException ??
    event.modelStreamErrorException ??
    event.validationException ??
    event.throttlingException ??
    event.serviceUnavailableException;
  return failure ? (failure.message ?? "the stream failed") : undefined;
}

/** SDK errors carry a name like AccessDeniedException; say what it means instead of only echoing it. */
function bedrockError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof ModelError) return error;
  if (error.name === "AbortError" || error.name === "TimeoutError") return error;
  const hints: Record<string, string> = {
    AccessDeniedException: "access denied (enable the model in the Bedrock console and check the IAM policy)",
    ResourceNotFoundException: "model not found in this region (check CML_LAB_BEDROCK_MODEL_ID and AWS_REGION)",
    ValidationException: "the request was rejected",
    ThrottlingException: "throttled; try again shortly",
    CredentialsProviderError: "no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)",
    UnrecognizedClientException: "the AWS credentials were rejected",
    ExpiredTokenException: "the AWS session token has expired",
  };
  const hint = hints[error.name];
  if (!hint) return error;
  const kind = error.name === "ThrottlingException" || error.name === "ValidationException" ? "upstream" : "auth";
  return new ModelError(
    kind,
    `Amazon Bedrock: ${hint}${error.name === "ValidationException" ? `: ${error.message.slice(0, 200)}` : ""}`,
  );
}
