/**
 * How every outbound connection leaves the process: through the proxy the environment names
 * (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, either case) and trusting an extra CA bundle (NODE_EXTRA_CA_CERTS and
 * CML_LAB_CA_BUNDLE). Node's fetch ignores the proxy variables, and an explicit `ca` replaces Node's roots, so
 * both are decided here once: `installOutbound()` at process start sets undici's global dispatcher (every
 * `fetch`: the CML client, Pinecone, Chroma, the OpenAI-compatible and CML model back-ends, the scraper), and
 * `awsRequestHandler()` gives the AWS SDK, which does not use fetch, a NodeHttpHandler with the same decision.
 *
 * Why not undici's EnvHttpProxyAgent: it matches a bare NO_PROXY entry (`example.com`) only exactly, where
 * curl and Go (Terraform) also bypass its subdomains, it has no CIDR entries, and it prints an "experimental"
 * warning. The routing below uses undici's ProxyAgent and Agent for the connections themselves.
 */
import { readFileSync } from "node:fs";
import { type ClientRequest, Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { BlockList, isIP } from "node:net";
import { rootCertificates } from "node:tls";
import type { NodeHttpHandler } from "@smithy/node-http-handler";
import type { HttpsProxyAgent } from "https-proxy-agent";
import { Agent, Dispatcher, ProxyAgent, setGlobalDispatcher } from "undici";
import { UserError } from "./errors.js";
import { loadWorkload } from "./workload-packages.js";

export interface OutboundSettings {
  httpProxy: string | undefined;
  httpsProxy: string | undefined;
  noProxy: string;
  /** Roots plus the extra bundles, when an extra bundle is configured; undefined leaves Node's defaults. */
  ca: string[] | undefined;
  /** The files the extra CAs came from, for messages. */
  caFiles: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** The first non-empty value among the names, lower case first as curl reads them. */
function pick(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

export function outboundSettings(env: Env = process.env): OutboundSettings {
  const caFiles = [env.NODE_EXTRA_CA_CERTS, env.CML_LAB_CA_BUNDLE].filter((file): file is string => Boolean(file));
  const extra = caFiles.map((file) => {
    try {
      return readFileSync(file, "utf8");
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new UserError(`cannot read the CA bundle ${file}: ${reason}`, {
        notes: ["NODE_EXTRA_CA_CERTS and CML_LAB_CA_BUNDLE name a PEM file of extra certificate authorities"],
      });
    }
  });
  const httpProxy = pick(env, "http_proxy", "HTTP_PROXY");
  return {
    httpProxy,
    // curl falls back to no proxy for https when only http_proxy is set; Go and undici do the same.
    httpsProxy: pick(env, "https_proxy", "HTTPS_PROXY"),
    noProxy: pick(env, "no_proxy", "NO_PROXY") ?? "",
    ca: extra.length > 0 ? [...rootCertificates, ...extra] : undefined,
    caFiles,
  };
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/**
 * The proxy URL for a request to `target`, or undefined to connect directly. NO_PROXY as curl and Go read it:
 * comma- or space-separated entries; `*` bypasses everything; `example.com`, `.example.com` and `*.example.com`
 * bypass the domain and its subdomains; `host:port` only that port; an IP or a CIDR range bypasses those
 * addresses. Loopback (localhost, 127.0.0.0/8, ::1) is never proxied, as in Go: the local platform and a
 * workload's own servers live there, and a shell's corporate proxy cannot reach them.
 */
export function proxyForUrl(target: URL | string, settings: OutboundSettings): string | undefined {
  const url = typeof target === "string" ? new URL(target) : target;
  const proxy =
    url.protocol === "https:" ? settings.httpsProxy : url.protocol === "http:" ? settings.httpProxy : undefined;
  if (!proxy) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || isLoopback(host)) return undefined;
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  return bypassed(host, port, settings.noProxy) ? undefined : proxy;
}

function isLoopback(host: string): boolean {
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? "ipv4" : "ipv6");
}

function bypassed(host: string, port: number, noProxy: string): boolean {
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === "*") return true;
    if (entry.includes("/")) {
      if (inCidr(host, entry)) return true;
      continue;
    }
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    const name = (withPort?.[1] ?? entry).replace(/^\[|\]$/g, "");
    if (withPort && Number(withPort[2]) !== port) continue;
    const domain = name.replace(/^\*?\./, "");
    if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}

function inCidr(host: string, cidr: string): boolean {
  const [network, bits] = cidr.split("/");
  const family = isIP(host);
  if (!network || family === 0 || isIP(network) !== family) return false;
  const list = new BlockList();
  const type = family === 4 ? "ipv4" : "ipv6";
  try {
    list.addSubnet(network, Number(bits), type);
  } catch {
    return false;
  }
  return list.check(host, type);
}

/**
 * An undici dispatcher that sends each request directly or through the proxy `proxyForUrl` names, with the
 * extra CAs trusted for the target (also through a tunnel) and for an https proxy.
 */
export class OutboundDispatcher extends Dispatcher {
  readonly #settings: OutboundSettings;
  readonly #direct: Agent;
  readonly #proxies = new Map<string, ProxyAgent>();

  /** `direct` adds socket options for direct connections (tests map a name to loopback with `lookup`). */
  constructor(settings: OutboundSettings, direct: Pick<Agent.Options, "connect"> = {}) {
    super();
    this.#settings = settings;
    this.#direct = new Agent({ connect: { ...direct.connect, ...(settings.ca ? { ca: settings.ca } : {}) } });
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
    return this.#route(String(options.origin)).dispatch(options, handler);
  }

  #route(origin: string): Dispatcher {
    const proxy = proxyForUrl(origin, this.#settings);
    if (!proxy) return this.#direct;
    let agent = this.#proxies.get(proxy);
    if (!agent) {
      const tls = this.#settings.ca ? { ca: this.#settings.ca } : undefined;
      // proxyTunnel false: plain http goes as an absolute-URI request, as curl sends it; many proxies refuse CONNECT
      // to ports other than 443.
      agent = new ProxyAgent({ uri: proxy, requestTls: tls, proxyTls: tls, proxyTunnel: false });
      this.#proxies.set(proxy, agent);
    }
    return agent;
  }

  override async close(): Promise<void> {
    await Promise.all([this.#direct.close(), ...[...this.#proxies.values()].map((agent) => agent.close())]);
  }

  override async destroy(): Promise<void> {
    await Promise.all([this.#direct.destroy(), ...[...this.#proxies.values()].map((agent) => agent.destroy())]);
  }
}

let installed: OutboundSettings | undefined;

/**
 * Called once at process start by each entry point (both bins, the model function). Sets the global
 * dispatcher only when there is something to change, so a process without proxy or CA settings keeps Node's
 * own fetch path untouched. Returns the settings in force.
 */
export function installOutbound(env: Env = process.env): OutboundSettings {
  if (installed) return installed;
  const settings = outboundSettings(env);
  if (settings.httpProxy || settings.httpsProxy || settings.ca) setGlobalDispatcher(new OutboundDispatcher(settings));
  installed = settings;
  return settings;
}

/** The settings the process runs with: those installed at start, else read from the environment now. */
export function currentOutbound(): OutboundSettings {
  return installed ?? outboundSettings();
}

/** The AWS SDK's handler and the proxy agent are workload packages (src/shared/workload-packages.ts). */
const AWS_HANDLER_PACKAGES = ["@smithy/node-http-handler", "https-proxy-agent"];

/**
 * https-proxy-agent applies its `ca` option to the proxy connection only; the TLS session with the target,
 * inside the tunnel, takes the request's options, so the extra CAs are added there too.
 */
function trustingProxyAgent(
  Base: typeof HttpsProxyAgent<string>,
  proxy: string,
  ca: string[],
): HttpsProxyAgent<string> {
  return new (class TrustingProxyAgent extends Base {
    override connect(request: ClientRequest, options: Parameters<HttpsProxyAgent<string>["connect"]>[1]) {
      return super.connect(request, options.secureEndpoint ? { ...options, ca } : options);
    }
  })(proxy, { keepAlive: true, ca });
}

/**
 * The AWS SDK's request handler for a client whose requests all go to `endpoint`: through the proxy the
 * environment names for it, trusting the extra CAs. Undefined when neither applies (the SDK's default).
 */
export async function awsRequestHandler(
  endpoint: string,
  settings: OutboundSettings = currentOutbound(),
): Promise<NodeHttpHandler | undefined> {
  const proxy = proxyForUrl(endpoint, settings);
  if (!proxy && !settings.ca) return undefined;
  const [{ NodeHttpHandler: Handler }, { HttpsProxyAgent: ProxyAgentClass }] = await loadWorkload(
    "Amazon Bedrock",
    AWS_HANDLER_PACKAGES,
    () => Promise.all([import("@smithy/node-http-handler"), import("https-proxy-agent")]),
  );
  const ca = settings.ca;
  if (proxy) {
    const agent = ca ? trustingProxyAgent(ProxyAgentClass, proxy, ca) : new ProxyAgentClass(proxy, { keepAlive: true });
    return new Handler({ httpAgent: agent, httpsAgent: agent });
  }
  return new Handler({
    httpAgent: new HttpAgent({ keepAlive: true }),
    httpsAgent: new HttpsAgent({ keepAlive: true, ca }),
  });
}
