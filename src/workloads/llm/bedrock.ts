/**
 * Amazon Bedrock through ConverseStream: `system` + `messages`, `inferenceConfig {maxTokens, temperature}`.
 * Never temperature and topP together (Claude 4.5-family models reject that). Model or inference-profile id
 * comes from config, never a hard-coded default, because Bedrock ids churn. Credentials come from the SDK's
 * default provider chain; the region is resolved here because the JS SDK ignores AWS_DEFAULT_REGION.
 * The wire contract this relies on is src/workloads/FACTS.md §B, tested against a local server speaking it
 * (test/helpers/bedrock-wire.ts).
 */
import type {
  BedrockRuntimeClient,
  ConverseStreamCommandOutput,
  ConverseStreamOutput,
} from "@aws-sdk/client-bedrock-runtime";
import { UserError } from "../../shared/errors.js";
import { awsRequestHandler } from "../../shared/outbound.js";
import { assertWorkloadPackages, loadWorkload } from "../../shared/workload-packages.js";
import { type BedrockCall, describeBedrockFailure } from "./bedrock-errors.js";
import { abortable, CallDeadline, describeError } from "./deadline.js";
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
 * Where the SDK sends Bedrock Runtime requests, as it decides (FACTS.md §B1): AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
 * else AWS_ENDPOINT_URL (a VPC endpoint, a test server), unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true;
 * else the regional endpoint. The SDK reads these variables itself; this only mirrors its choice so the proxy
 * decision is made for the host the requests really go to.
 */
export function bedrockEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): string {
  const configured =
    env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === "true"
      ? undefined
      : env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME || env.AWS_ENDPOINT_URL;
  return configured || `https://bedrock-runtime.${region}.amazonaws.com`;
}

/**
 * The one way the workloads make a Bedrock Runtime client: through the proxy and CA the environment names
 * (src/shared/outbound.ts), at the endpoint the SDK will use. Without a proxy or an extra CA the SDK keeps its
 * own handler for this service, which speaks HTTP/2 (FACTS.md §B1); with one, outbound's handler speaks 1.1.
 */
export async function createBedrockClient(
  region: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BedrockRuntimeClient> {
  const [{ BedrockRuntimeClient: Client }, requestHandler] = await Promise.all([
    bedrockSdk(),
    awsRequestHandler(bedrockEndpoint(region, env)),
  ]);
  return withoutNodeVersionWarning(() => new Client({ region, ...(requestHandler ? { requestHandler } : {}) }));
}

const NODE_WARNING_SWITCH = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

/**
 * The SDK warns on Node 20 that versions after January 2027 need Node 22: a note for whoever upgrades the pinned
 * SDK, not for a user asking a question (the project supports Node 20; package.json engines). The SDK's own
 * switch is an environment variable it reads once, in the client's constructor (FACTS.md §B1): set only for the
 * construction, so the rest of the process (and its children) see the environment as the user left it.
 */
function withoutNodeVersionWarning<T>(build: () => T): T {
  if (process.env[NODE_WARNING_SWITCH] !== undefined) return build();
  process.env[NODE_WARNING_SWITCH] = "true";
  try {
    return build();
  } finally {
    delete process.env[NODE_WARNING_SWITCH];
  }
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
  const [client, sdk] = await Promise.all([clientOnce(), bedrockSdk()]);
  const deadline = new CallDeadline(options.signal, config.timeoutMs ?? 60_000, "Amazon Bedrock");
  const call: BedrockCall = {
    modelId: config.modelId,
    region: config.region,
    check: "check CML_LAB_BEDROCK_MODEL_ID and AWS_REGION",
  };
  let usage: { inputTokens: number; outputTokens: number } | undefined;
  let stopReason: string | undefined;
  let finished = false;
  let streaming = false;
  try {
    const command = new sdk.ConverseStreamCommand({
      modelId: config.modelId,
      system: [{ text: input.system }],
      messages: input.messages.map((m) => ({ role: m.role, content: [{ text: m.content }] })),
      inferenceConfig: { maxTokens: Math.round(options.maxTokens), temperature: options.temperature },
    });
    const response: ConverseStreamCommandOutput = await client.send(command, { abortSignal: deadline.signal });
    if (!response.stream) throw new ModelError("upstream", "Amazon Bedrock returned no stream");
    streaming = true;
    for await (const event of abortable<ConverseStreamOutput>(response.stream, deadline.signal)) {
      deadline.touch();
      const failure = streamFailure(event);
      if (failure) throw new ModelError("upstream", `Amazon Bedrock: ${failure}`);
      const text = event.contentBlockDelta?.delta?.text;
      if (text) yield { type: "delta", text };
      if (event.messageStop) {
        finished = true;
        stopReason = event.messageStop.stopReason;
      }
      const reported = event.metadata?.usage;
      if (reported) usage = { inputTokens: reported.inputTokens ?? 0, outputTokens: reported.outputTokens ?? 0 };
    }
    // Every answer ends with messageStop (FACTS.md §B2). Over HTTP/2 a connection cut mid-answer ends the SDK's
    // stream as if it had finished, so an answer without it was cut off, and must not pass for a whole one.
    if (!finished) throw brokenOff("the stream ended before the model finished");
  } catch (error) {
    throw deadline.toError(
      deadline.signal.aborted ? error : bedrockError(error, call, streaming, sdk.BedrockRuntimeServiceException),
      config.secrets ?? [],
    );
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

function brokenOff(why: string): ModelError {
  return new ModelError("upstream", `Amazon Bedrock: the answer was cut off (${why}); try again`);
}

/**
 * Exceptions Bedrock delivers inside the stream. The SDK throws them from the iterator (FACTS.md §B2), but the
 * stream's union type also declares them as members, so one yielded as an event is read the same way.
 */
function streamFailure(event: ConverseStreamOutput): string | undefined {
  const failure =
    event.internalServerException ??
    event.modelStreamErrorException ??
    event.validationException ??
    event.throttlingException ??
    event.serviceUnavailableException;
  return failure ? (failure.message ?? "the stream failed") : undefined;
}

/**
 * A Bedrock error as one line for the user. Once the answer is streaming, an exception frame is Bedrock's own
 * word (its message), and a network failure (HTTP/1.1 reports a cut connection as "aborted") is the answer
 * breaking off; before that, the request's refusal reads as bedrock-errors.ts says. Anything else stays as it
 * is for CallDeadline to describe.
 */
function bedrockError(
  error: unknown,
  call: BedrockCall,
  streaming: boolean,
  // The SDK's class, loaded with it (a workload package: no static import).
  ServiceException: abstract new (...args: never[]) => Error,
): unknown {
  if (!(error instanceof Error) || error instanceof ModelError) return error;
  if (streaming && error instanceof ServiceException) {
    return new ModelError("upstream", `Amazon Bedrock: ${error.message || error.name}`);
  }
  const failure = describeBedrockFailure(error, call);
  if (failure) return new ModelError(failure.kind, failure.message);
  const code = "code" in error && typeof error.code === "string" ? `, ${error.code}` : "";
  return streaming ? brokenOff(`${describeError(error)}${code}`) : error;
}
