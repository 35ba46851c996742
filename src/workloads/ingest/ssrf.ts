/**
 * The scraper's guard against server-side request forgery: a links file it does not control must not make it
 * reach loopback, private networks, link-local (cloud metadata at 169.254.169.254) or any other address that is
 * not globally reachable, in any spelling.
 *
 * Which addresses: ipaddr.js classifies an address by the IANA IPv4 and IPv6 Special-Purpose Address Registries
 * (RFC 6890 and their later entries: 198.18.0.0/15 benchmarking, 192.0.2.0/24 documentation, 100::/64 discard,
 * 5f00::/16 SRv6, …); only its "unicast" class (everything not special) is allowed. Forms that carry an IPv4
 * address inside an IPv6 one are judged by the IPv4 address they lead to: IPv4-mapped ::ffff:0:0/96 (RFC 4291),
 * IPv4-translated ::ffff:0:0:0/96 (RFC 6145), NAT64 64:ff9b::/96 (RFC 6052) and 6to4 2002::/16 (RFC 3056).
 * Refused whole: IPv4-compatible ::/96 (deprecated by RFC 4291 §2.5.5.1; ipaddr.js calls ::a9fe:a9fe unicast),
 * the NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215) and Teredo 2001::/32 (RFC 4380; its client address is
 * obfuscated, and the relay is not ours to choose).
 *
 * When: the host is checked before each request for a clear early message, and again in the connection's own
 * DNS lookup (`publicFetch`), so the socket connects to exactly the addresses that were checked: a name that
 * resolves to a public address for the check and to 127.0.0.1 for the connection (DNS rebinding) is refused.
 */

import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { currentOutbound, OutboundDispatcher } from "../../shared/outbound.js";

/** Resolves a host name to every address it has (injectable so tests can play a rebinding DNS server). */
export type Resolve = (host: string) => Promise<string[]>;

export const systemResolve: Resolve = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** A host that is, or resolves to, an address the scraper must not reach. */
export class PrivateAddressError extends Error {
  override readonly name = "PrivateAddressError";
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`refused: ${host} resolves to private address ${address} (pass --allow-private to allow)`);
  }
}

const NAT64_WELL_KNOWN = ipaddr.parseCIDR("64:ff9b::/96");

export function isPrivateAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv4") return parsed.range() !== "unicast";
  // ipaddr.js reads "::a.b.c.d" (IPv4-compatible) as IPv4-mapped; WHATWG URL canonicalisation spells it in hex.
  const v6 = ipaddr.IPv6.parse(new URL(`http://[${address.replace(/%.*$/, "")}]/`).hostname.slice(1, -1));
  const parts = v6.parts;
  if (parts.slice(0, 6).every((p) => p === 0)) return true; // ::/96: unspecified, loopback, IPv4-compatible
  const embedded = (hi: number, lo: number) => isPrivateAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  switch (v6.range()) {
    case "ipv4Mapped":
    case "rfc6145":
      return embedded(parts[6] ?? 0, parts[7] ?? 0);
    case "rfc6052":
      return v6.match(NAT64_WELL_KNOWN) ? embedded(parts[6] ?? 0, parts[7] ?? 0) : true;
    case "6to4":
      return embedded(parts[1] ?? 0, parts[2] ?? 0);
    case "unicast":
      return false;
    default:
      return true;
  }
}

/** Throws PrivateAddressError when the URL's host is or resolves to a blocked address (every address is checked). */
export async function assertPublicHost(url: URL, resolve: Resolve = systemResolve): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const addresses = isIP(host) ? [host] : await resolve(host);
  const blocked = addresses.find(isPrivateAddress);
  if (blocked !== undefined) throw new PrivateAddressError(url.host, blocked);
}

/**
 * A fetch whose connections resolve names through `resolve` and refuse blocked addresses inside the connect
 * step, so what is checked is what is connected to. IP literals never reach a lookup; `assertPublicHost`
 * covers them (they cannot change between check and connect).
 */
export function publicFetch(resolve: Resolve = systemResolve): { fetch: typeof fetch; close: () => Promise<void> } {
  const checkedLookup = (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    resolve(hostname).then(
      (addresses) => {
        const blocked = addresses.find(isPrivateAddress);
        if (blocked !== undefined) return callback(new PrivateAddressError(hostname, blocked), []);
        const entries = addresses.map((address) => ({ address, family: isIP(address) }));
        if (entries.length === 0)
          return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), []);
        if (options.all) return callback(null, entries);
        const first = entries[0];
        return callback(null, first?.address ?? "", first?.family);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), []),
    );
  };
  // Through the proxy-aware dispatcher (src/shared/outbound.ts): a proxied request is still checked first by
  // assertPublicHost (the proxy resolves the name itself), a direct one inside its connect step.
  const dispatcher = new OutboundDispatcher(currentOutbound(), { connect: { lookup: checkedLookup } });
  // `dispatcher` is undici's extension of RequestInit (Node's fetch is undici); the DOM typings do not list it.
  return {
    fetch: (input, init) => fetch(input, Object.assign({}, init, { dispatcher })),
    close: () => dispatcher.close(),
  };
}

/** The PrivateAddressError behind a failed fetch (undici wraps connect errors in `TypeError: fetch failed`). */
export function privateAddressCause(error: unknown): PrivateAddressError | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    if (e instanceof PrivateAddressError) return e;
    e = typeof e === "object" && "cause" in e ? e.cause : undefined;
  }
  return undefined;
}
