/**
 * Issue 18 part 3: every outbound call honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY and an extra CA bundle, offline:
 * a CONNECT proxy on 127.0.0.1 that resolves names itself and counts what passes, and TLS servers with
 * certificates from CAs this test creates.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { getGlobalDispatcher, setGlobalDispatcher } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { certificateErrorMessage } from "../../src/shared/certificate-error.js";
import { OutboundDispatcher, outboundSettings, proxyForUrl } from "../../src/shared/outbound.js";
import { scrapePages } from "../../src/workloads/ingest/scrape.js";
import { createModel } from "../../src/workloads/llm/registry.js";
import { createBedrockEmbedder } from "../../src/workloads/rag/embedders/bedrock.js";
import { answerEvents, startBedrockWire, stubEnv } from "../helpers/bedrock-wire.js";
import { type CountingProxy, startCountingProxy } from "./connect-proxy.js";
import { createTestCa, type TestCa } from "./tls-fixtures.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

describe("proxyForUrl reads the proxy variables as curl and Go (Terraform) do", () => {
  const P = "http://proxy.corp:3128";
  const cases: [string, Record<string, string>, string | undefined][] = [
    ["https://api.pinecone.io/indexes", { HTTPS_PROXY: P }, P],
    ["https://api.pinecone.io/indexes", { https_proxy: P }, P],
    ["http://cml.corp.example/api", { HTTPS_PROXY: P }, undefined],
    ["http://cml.corp.example/api", { http_proxy: P }, P],
    ["https://a.example.com", { HTTPS_PROXY: P, NO_PROXY: "example.com" }, undefined],
    ["https://example.com", { HTTPS_PROXY: P, NO_PROXY: ".example.com" }, undefined],
    ["https://a.b.example.com", { HTTPS_PROXY: P, no_proxy: "*.example.com" }, undefined],
    ["https://notexample.com", { HTTPS_PROXY: P, NO_PROXY: "example.com" }, P],
    ["https://a.example.com", { HTTPS_PROXY: P, NO_PROXY: "other.org, example.com" }, undefined],
    ["https://a.example.com:8443", { HTTPS_PROXY: P, NO_PROXY: "example.com:443" }, P],
    ["https://a.example.com", { HTTPS_PROXY: P, NO_PROXY: "example.com:443" }, undefined],
    ["https://10.1.2.3", { HTTPS_PROXY: P, NO_PROXY: "10.0.0.0/8" }, undefined],
    ["https://11.1.2.3", { HTTPS_PROXY: P, NO_PROXY: "10.0.0.0/8" }, P],
    ["https://anything.io", { HTTPS_PROXY: P, NO_PROXY: "*" }, undefined],
    ["http://127.0.0.1:8080/api", { HTTP_PROXY: P }, undefined],
    ["http://localhost:8080/api", { HTTP_PROXY: P }, undefined],
    ["http://[::1]:8080/api", { HTTP_PROXY: P }, undefined],
  ];
  it.each(cases)("%s with %j → %s", (url, env, expected) => {
    expect(proxyForUrl(url, outboundSettings(env))).toBe(expected);
  });

  it("an unreadable CA bundle is a user error naming the file", () => {
    expect(() => outboundSettings({ CML_LAB_CA_BUNDLE: "/nonexistent/ca.pem" })).toThrow(
      /cannot read the CA bundle \/nonexistent\/ca\.pem/,
    );
  });
});

interface TlsService {
  port: number;
  requests: string[];
  close: () => Promise<void>;
}

async function startTlsService(ca: TestCa, answer: (path: string) => unknown): Promise<TlsService> {
  const requests: string[] = [];
  const server: Server = createHttpsServer({ key: ca.key, cert: ca.cert }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer(req.url ?? "/")));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("fetch through the process-wide dispatcher", () => {
  let corp: TestCa;
  let stranger: TestCa;
  let cml: TlsService;
  let proxy: CountingProxy;
  const original = getGlobalDispatcher();

  beforeAll(async () => {
    corp = createTestCa("corp", ["cml.corp.test", "bedrock-runtime.us-east-1.amazonaws.com", "localhost"]);
    stranger = createTestCa("stranger", ["unused.test"]);
    cml = await startTlsService(corp, (path) =>
      path.startsWith("/model/")
        ? { embedding: Array.from({ length: 256 }, (_, i) => (i === 0 ? 1 : 0)), inputTextTokenCount: 1 }
        : { projects: [{ name: `served ${path}` }] },
    );
    proxy = await startCountingProxy({
      "cml.corp.test:443": cml.port,
      "bedrock-runtime.us-east-1.amazonaws.com:443": cml.port,
    });
  });
  afterEach(() => {
    setGlobalDispatcher(original);
    proxy.seen.length = 0;
    vi.unstubAllEnvs();
  });
  afterAll(async () => {
    await Promise.all([proxy?.close(), cml?.close()]);
  });

  const use = (env: Record<string, string>, direct?: OutboundDispatcher) =>
    setGlobalDispatcher(direct ?? new OutboundDispatcher(outboundSettings(env)));

  it("tunnels https through HTTPS_PROXY and trusts the CA from CML_LAB_CA_BUNDLE", async () => {
    use({ HTTPS_PROXY: proxy.url, CML_LAB_CA_BUNDLE: corp.caFile });
    const response = await fetch("https://cml.corp.test/api/v2/projects");
    expect(await response.json()).toEqual({ projects: [{ name: "served /api/v2/projects" }] });
    expect(proxy.seen).toEqual(["CONNECT cml.corp.test:443"]);
  });

  it("reads NODE_EXTRA_CA_CERTS and lower-case https_proxy the same way", async () => {
    use({ https_proxy: proxy.url, NODE_EXTRA_CA_CERTS: corp.caFile });
    expect((await fetch("https://cml.corp.test/x")).status).toBe(200);
    expect(proxy.seen).toEqual(["CONNECT cml.corp.test:443"]);
  });

  it("connects directly to a NO_PROXY host and never touches the proxy", async () => {
    const settings = outboundSettings({
      HTTPS_PROXY: proxy.url,
      NO_PROXY: "corp.test",
      CML_LAB_CA_BUNDLE: corp.caFile,
    });
    // The direct path resolves cml.corp.test itself; map it to loopback so nothing leaves the machine.
    const lookup = (_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
      options.all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4);
    const dispatcher = new OutboundDispatcher(settings, { connect: { lookup } as never });
    use({}, dispatcher);
    const response = await fetch(`https://cml.corp.test:${cml.port}/direct`);
    expect(response.status).toBe(200);
    expect(proxy.seen).toEqual([]);
  });

  it("sends plain http through HTTP_PROXY as an absolute-URI request", async () => {
    const plain = createHttpServer((_req, res) => res.end("plain"));
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    proxy.route("intranet.corp.test:80", (plain.address() as AddressInfo).port);
    try {
      use({ HTTP_PROXY: proxy.url });
      expect(await (await fetch("http://intranet.corp.test/page")).text()).toBe("plain");
      expect(proxy.seen).toEqual(["GET http://intranet.corp.test/page"]);
    } finally {
      plain.close();
    }
  });

  it("a certificate from an untrusted CA fails with a message naming the cause and the fix", async () => {
    use({ HTTPS_PROXY: proxy.url, CML_LAB_CA_BUNDLE: stranger.caFile });
    const failure = await fetch("https://cml.corp.test/api/v2/projects").then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    const message = certificateErrorMessage(failure, "cml.corp.test");
    expect(message).toMatch(/TLS certificate from cml\.corp\.test not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect(message).toMatch(/NODE_EXTRA_CA_CERTS or CML_LAB_CA_BUNDLE/);
    expect(proxy.seen).toEqual(["CONNECT cml.corp.test:443"]);
  });

  it("the AWS SDK (Titan embeddings) goes through the same proxy and CA", async () => {
    vi.stubEnv("HTTPS_PROXY", proxy.url);
    vi.stubEnv("CML_LAB_CA_BUNDLE", corp.caFile);
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDTEST");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "secret");
    vi.stubEnv("AWS_PROFILE", "");
    const embedder = createBedrockEmbedder({ region: "us-east-1", dim: 256 });
    const served = cml.requests.length;
    const [vector] = await embedder.embedDocuments(["hello"]);
    expect(vector?.length).toBe(256);
    expect(cml.requests.slice(served)).toEqual(["POST /model/amazon.titan-embed-text-v2%3A0/invoke"]);
    expect(proxy.seen).toEqual(["CONNECT bedrock-runtime.us-east-1.amazonaws.com:443"]);
  });

  it("Bedrock ConverseStream (the event stream) goes through the same proxy and CA, delta by delta", async () => {
    const wire = await startBedrockWire({ tls: { key: corp.key, cert: corp.cert } });
    proxy.route("bedrock-runtime.us-east-1.amazonaws.com:443", wire.port);
    try {
      stubEnv({
        HTTPS_PROXY: proxy.url,
        CML_LAB_CA_BUNDLE: corp.caFile,
        AWS_ACCESS_KEY_ID: "AKIDTEST",
        AWS_SECRET_ACCESS_KEY: "secret",
        AWS_REGION: "us-east-1",
        AWS_CONFIG_FILE: "/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
        CML_LAB_BEDROCK_MODEL_ID: "anthropic.claude-haiku-4-5-20251001-v1:0",
      });
      wire.reply({ stream: answerEvents(["through ", "the proxy"]) });
      const model = createModel("bedrock", process.env);
      if ("unavailable" in model) throw new Error(model.unavailable);
      const events = [];
      const input = { system: "s", messages: [{ role: "user" as const, content: "q" }], question: "q", sources: [] };
      for await (const event of model.stream({ ...input, grounded: false }, { temperature: 0, maxTokens: 16 })) {
        events.push(event.type === "delta" ? event.text : event.type);
      }
      expect(events).toEqual(["through ", "the proxy", "usage"]);
      expect(wire.requests.map((r) => `${r.httpVersion} ${r.operation}`)).toEqual(["1.1 converse-stream"]);
      expect(proxy.seen).toEqual(["CONNECT bedrock-runtime.us-east-1.amazonaws.com:443"]);
    } finally {
      proxy.route("bedrock-runtime.us-east-1.amazonaws.com:443", cml.port);
      await wire.close();
    }
  });

  it("the scraper still refuses a private target when a proxy is set, before anything is sent", async () => {
    use({ HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url });
    const out = mkdtempSync(join(tmpdir(), "cml-lab-scrape-"));
    const summary = await scrapePages({
      urls: ["https://10.20.30.40/secret", "http://169.254.169.254/latest"],
      out,
      source: "test",
      respectRobots: false,
    });
    expect(summary.failures.map((failure) => failure.reason)).toEqual([
      expect.stringMatching(/private address 10\.20\.30\.40/),
      expect.stringMatching(/private address 169\.254\.169\.254/),
    ]);
    expect(proxy.seen).toEqual([]);
  });

  it("the deploy CLI as a process: proxy and NODE_EXTRA_CA_CERTS from its environment; a wrong CA is one line", async () => {
    const env = {
      PATH: process.env.PATH ?? "",
      HTTPS_PROXY: proxy.url,
      CML_API_URL: "https://cml.corp.test",
      CML_API_KEY: "test-key",
    };
    const ok = await run(process.execPath, [join(root, "bin/deploy.js"), "api", "get", "/projects"], {
      env: { ...env, NODE_EXTRA_CA_CERTS: corp.caFile },
    });
    expect(JSON.parse(ok.stdout)).toEqual({ projects: [{ name: "served /api/v2/projects" }] });
    expect(proxy.seen).toEqual(["CONNECT cml.corp.test:443"]);

    proxy.seen.length = 0;
    const bad = await run(process.execPath, [join(root, "bin/deploy.js"), "api", "get", "/projects"], { env }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(bad?.code).toBe(1);
    expect(bad?.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^error: TLS certificate not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE: .*NODE_EXTRA_CA_CERTS/,
      ),
    ]);
    // Not retried: a certificate does not change between attempts.
    expect(proxy.seen).toEqual(["CONNECT cml.corp.test:443"]);
  });
});
