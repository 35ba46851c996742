/**
 * A Bedrock Runtime on 127.0.0.1 that speaks the service's wire protocol (src/workloads/FACTS.md §B), so the
 * real SDK runs end to end against it: request serialisation and signing, the `vnd.amazon.eventstream`
 * framing of ConverseStream, the restJson1 error mapping (`x-amzn-ErrorType`), the SDK's retries.
 *
 * Frames are encoded with the SDK's own codec (EventStreamCodec of @smithy/core/event-streams, which the
 * SDK decodes with). @smithy/core is a transitive dependency (of @aws-sdk/client-bedrock-runtime), not one of
 * ours: if it moves, this import fails loudly and the SDK's decoder moved with it.
 *
 * Each request takes the next scripted reply, in order; a test scripts what Bedrock would answer and reads
 * back what the SDK sent.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createHttp2Server, createSecureServer } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { Readable } from "node:stream";
import { EventStreamCodec, type MessageHeaders } from "@smithy/core/event-streams";
import { vi } from "vitest";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const codec = new EventStreamCodec(
  (bytes) => text.decode(bytes),
  (value) => utf8.encode(value),
);

/** The event members of ConverseStreamOutput (FACTS.md §B2). */
export type ConverseEventName =
  | "messageStart"
  | "contentBlockStart"
  | "contentBlockDelta"
  | "contentBlockStop"
  | "messageStop"
  | "metadata";

/** One step of a ConverseStream response body. */
export type StreamStep =
  /** An event frame (`:message-type: event`). */
  | { event: ConverseEventName; body: Record<string, unknown> }
  /** A modelled exception frame (`:message-type: exception`), e.g. throttlingException. */
  | { exception: string; message: string }
  /** Holds the stream until the promise settles (a slow model; a test's lock-step). */
  | { until: Promise<unknown> }
  /** Destroys the connection here, mid-body, as a dropped network path does. */
  | { cut: true }
  /** Ends the body here, cleanly, as a proxy that closes a long response does. */
  | { end: true };

export type WireReply =
  | { stream: StreamStep[] }
  /** An error response as Bedrock sends it: status, `x-amzn-ErrorType`, `{"message": …}`. */
  | { error: { status: number; type: string; message: string } }
  /** An InvokeModel answer (the model's own JSON). */
  | { json: unknown };

export type ScriptedReply = WireReply | ((request: WireRequest) => WireReply | Promise<WireReply>);

export interface WireRequest {
  method: string;
  /** The path as sent (the model id is percent-encoded in it). */
  path: string;
  /** `converse-stream`, `invoke`, … (the last path segment). */
  operation: string;
  modelId: string;
  headers: IncomingHttpHeaders;
  /** "2.0" or "1.1": the HTTP version the SDK spoke. */
  httpVersion: string;
  body: unknown;
}

export interface BedrockWire {
  /** `http(s)://127.0.0.1:port`: AWS_ENDPOINT_URL_BEDROCK_RUNTIME or the client's `endpoint`. */
  url: string;
  port: number;
  requests: WireRequest[];
  /**
   * Queues replies; each request takes the next. A function answers from the request (concurrent calls arrive in
   * any order). A request with none queued gets a 500 (a test bug).
   */
  reply: (...replies: ScriptedReply[]) => void;
  /** Forgets the requests seen and the replies not taken. */
  reset: () => void;
  close: () => Promise<void>;
}

/** The request and response of either HTTP version, as far as this server uses them. */
type Request = Readable & { url?: string; method?: string; headers: IncomingHttpHeaders; httpVersion: string };
interface Response {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Uint8Array, callback: () => void): unknown;
  end(): unknown;
  end(body: string): unknown;
  socket: Pick<Socket, "destroy"> | null;
}

/**
 * `http: 2` (the default) is what the SDK's default handler for Bedrock Runtime speaks (NodeHttp2Handler,
 * cleartext HTTP/2 with prior knowledge to an http:// endpoint); `http: 1` is what it speaks through
 * src/shared/outbound.ts's handler (a proxy or an extra CA). With `tls`, the server offers both by ALPN, as
 * Bedrock's endpoints do.
 */
export async function startBedrockWire(
  options: { http?: 1 | 2; tls?: { key: string; cert: string } } = {},
): Promise<BedrockWire> {
  const queue: ScriptedReply[] = [];
  const requests: WireRequest[] = [];
  const sockets = new Set<Socket>();
  const handle = (req: Request, res: Response) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const path = req.url ?? "/";
      const match = /^\/model\/([^/]+)\/([^/?]+)/.exec(path);
      const request: WireRequest = {
        method: req.method ?? "",
        path,
        operation: match?.[2] ?? "",
        modelId: decodeURIComponent(match?.[1] ?? ""),
        headers: req.headers,
        httpVersion: req.httpVersion,
        body: raw ? JSON.parse(raw) : undefined,
      };
      requests.push(request);
      const next = queue.shift() ?? { error: { status: 500, type: "InternalServerException", message: "unscripted" } };
      void Promise.resolve(typeof next === "function" ? next(request) : next).then((reply) => send(res, reply));
    });
  };
  const server = options.tls
    ? createSecureServer({ ...options.tls, allowHTTP1: true }, handle)
    : options.http === 1
      ? createHttpServer(handle)
      : createHttp2Server(handle);
  server.on(options.tls ? "secureConnection" : "connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    requests,
    reply: (...replies) => queue.push(...replies),
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        (server as Server).close(() => resolve());
      }),
  };
}

const REQUEST_ID = "0b6d5a4e-0000-4000-8000-000000000000";

async function send(res: Response, reply: WireReply): Promise<void> {
  if ("error" in reply) {
    // Bedrock's error type header carries a namespace after the colon; the SDK reads the part before it.
    res.writeHead(reply.error.status, {
      "content-type": "application/json",
      "x-amzn-requestid": REQUEST_ID,
      "x-amzn-errortype": `${reply.error.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    });
    res.end(JSON.stringify({ message: reply.error.message }));
    return;
  }
  if ("json" in reply) {
    res.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": REQUEST_ID });
    res.end(JSON.stringify(reply.json));
    return;
  }
  res.writeHead(200, { "content-type": "application/vnd.amazon.eventstream", "x-amzn-requestid": REQUEST_ID });
  for (const step of reply.stream) {
    if ("until" in step) {
      await step.until.catch(() => {});
      continue;
    }
    if ("cut" in step) {
      res.socket?.destroy();
      return;
    }
    if ("end" in step) break;
    // Each frame leaves before the next step, so a cut after it really follows it on the wire.
    await new Promise<void>((resolve) => res.write(frame(step), () => resolve()));
  }
  res.end();
}

function frame(step: Extract<StreamStep, { event: string } | { exception: string }>): Uint8Array {
  const string = (value: string) => ({ type: "string" as const, value });
  const headers: MessageHeaders =
    "event" in step
      ? {
          ":event-type": string(step.event),
          ":content-type": string("application/json"),
          ":message-type": string("event"),
        }
      : {
          ":exception-type": string(step.exception),
          ":content-type": string("application/json"),
          ":message-type": string("exception"),
        };
  const body = "event" in step ? step.body : { message: step.message };
  return codec.encode({ headers, body: utf8.encode(JSON.stringify(body)) });
}

/**
 * The events of one streamed text answer, as ConverseStream sends them for a text block (FACTS.md §B2; no
 * contentBlockStart, which announces tool-use blocks).
 */
export function answerEvents(
  deltas: readonly (string | { until: Promise<unknown> })[],
  usage = { inputTokens: 321, outputTokens: 9 },
): StreamStep[] {
  return [
    { event: "messageStart", body: { role: "assistant" } },
    ...deltas.map(
      (delta): StreamStep =>
        typeof delta === "string"
          ? { event: "contentBlockDelta", body: { contentBlockIndex: 0, delta: { text: delta } } }
          : delta,
    ),
    { event: "contentBlockStop", body: { contentBlockIndex: 0 } },
    { event: "messageStop", body: { stopReason: "end_turn" } },
    {
      event: "metadata",
      body: { usage: { ...usage, totalTokens: usage.inputTokens + usage.outputTokens }, metrics: { latencyMs: 412 } },
    },
  ];
}

/** Bedrock's answers to the failures the tests exercise (status, type, message as the service sends them). */
export const BEDROCK_ERRORS = {
  throttled: {
    status: 429,
    type: "ThrottlingException",
    message: "Too many requests, please wait before trying again.",
  },
  accessDenied: {
    status: 403,
    type: "AccessDeniedException",
    message: "You don't have access to the model with the specified model ID.",
  },
  invalidModel: { status: 400, type: "ValidationException", message: "The provided model identifier is invalid." },
  endOfLife: {
    status: 404,
    type: "ResourceNotFoundException",
    message:
      "This model version has reached the end of its life. Please refer to the AWS documentation for more details.",
  },
} as const;

/** What a user sets to reach Bedrock, pointed at the test server `url`, with dummy credentials. */
export function awsEnv(url: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: url,
    AWS_ACCESS_KEY_ID: "AKIDWIRETEST",
    AWS_SECRET_ACCESS_KEY: "wire-test-secret-key",
    AWS_REGION: "us-west-2",
    AWS_CONFIG_FILE: "/nonexistent/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
  };
}

/**
 * What of the machine's own setup would change the path under test: a profile or a Bedrock API key (the SDK
 * picks bearer auth when AWS_BEARER_TOKEN_BEDROCK merely exists, even empty), a proxy or CA (another handler).
 */
const UNSET = [
  "AWS_PROFILE",
  "AWS_SESSION_TOKEN",
  "AWS_BEARER_TOKEN_BEDROCK",
  "AWS_AUTH_SCHEME_PREFERENCE",
  "AWS_ENDPOINT_URL",
  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
  "AWS_MAX_ATTEMPTS",
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "NODE_EXTRA_CA_CERTS",
  "CML_LAB_CA_BUNDLE",
];

/** Sets `env` in process.env (the SDK reads it there) for this test; vi.unstubAllEnvs() restores it. */
export function stubEnv(env: Record<string, string>): void {
  for (const name of UNSET) vi.stubEnv(name, undefined);
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
}
