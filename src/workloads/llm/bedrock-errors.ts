/**
 * What a Bedrock Runtime error means for the user, in one line: the chat back-end and the Titan embedder both
 * read the SDK's error names (the `x-amzn-ErrorType` of the response, src/workloads/FACTS.md §B3) through
 * this table, so a denied model or a wrong model id reads the same in the chat, `cml-lab query` and ingest.
 */
import type { ModelErrorKind } from "./types.js";

export interface BedrockCall {
  /** The model or inference-profile id sent. */
  modelId: string;
  region: string;
  /** What to check when the model is refused or missing ("check CML_LAB_BEDROCK_MODEL_ID and AWS_REGION"). */
  check: string;
}

export interface BedrockFailure {
  kind: ModelErrorKind;
  /** One line, starting "Amazon Bedrock: ". */
  message: string;
}

/** Bedrock's message, trimmed to one line of reasonable length (it never holds a credential, but is echoed). */
function reason(error: Error): string {
  const text = error.message.replace(/\s+/g, " ").trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Undefined when the error is not a Bedrock service or credential error (a network failure, an abort, a bug). */
export function describeBedrockFailure(error: unknown, call: BedrockCall): BedrockFailure | undefined {
  if (!(error instanceof Error)) return undefined;
  const model = `model ${call.modelId} in ${call.region}`;
  const check = call.check;
  switch (error.name) {
    case "AccessDeniedException":
      return {
        kind: "auth",
        message: `Amazon Bedrock: access denied to ${model} (enable the model in the Bedrock console and check the IAM policy)`,
      };
    case "ResourceNotFoundException":
      // Also how Bedrock answers for a model past its end of life or a Legacy model not used lately (§B3).
      return {
        kind: "config",
        message: `Amazon Bedrock: model ${call.modelId} is not available in ${call.region}: ${reason(error)} (${check})`,
      };
    case "ValidationException":
      // An unknown model id is a ValidationException, "The provided model identifier is invalid." (§B3).
      if (/model identifier|model id/i.test(error.message)) {
        return { kind: "config", message: `Amazon Bedrock: ${model}: ${reason(error)} (${check})` };
      }
      return { kind: "upstream", message: `Amazon Bedrock: the request was rejected: ${reason(error)}` };
    case "ThrottlingException":
      // The SDK has already retried it (3 attempts, backoff from 500 ms; §B5).
      return { kind: "upstream", message: "Amazon Bedrock: throttled, still after retries; try again shortly" };
    case "CredentialsProviderError":
      return {
        kind: "auth",
        message:
          "Amazon Bedrock: no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or AWS_BEARER_TOKEN_BEDROCK)",
      };
    case "UnrecognizedClientException":
    case "InvalidSignatureException":
      return { kind: "auth", message: "Amazon Bedrock: the AWS credentials were rejected" };
    case "ExpiredTokenException":
      return { kind: "auth", message: "Amazon Bedrock: the AWS session token has expired" };
    default:
      return undefined;
  }
}
