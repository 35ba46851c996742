/**
 * The scraper's private-address guard: every spelling of a non-public address is refused, the address that was
 * checked is the one connected to (a rebinding resolver cannot slip 127.0.0.1 in between), and a refused links
 * URL is the user's mistake, not a bug.
 */

import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../../src/shared/errors.js";
import { readLinks, scrapePages } from "../../src/workloads/ingest/scrape.js";
import { assertPublicHost, isPrivateAddress, type Resolve } from "../../src/workloads/ingest/ssrf.js";

const REFUSED = [
  // IPv4 special-purpose ranges
  "0.1.2.3",
  "10.200.3.4",
  "100.100.0.1",
  "127.8.9.10",
  "169.254.169.254",
  "172.31.255.1",
  "192.0.0.8",
  "192.0.2.77",
  "192.88.99.2",
  "192.168.200.1",
  "198.18.0.1",
  "198.19.255.254",
  "198.51.100.3",
  "203.0.113.200",
  "224.0.0.251",
  "239.255.255.250",
  "250.1.1.1",
  "255.255.255.255",
  // IPv6 special-purpose ranges
  "::",
  "::1",
  "100::1",
  "2001:db8:1::5",
  "3fff:1::1",
  "5f00::1",
  "fc12::1",
  "fd00:ec2::254",
  "fe80::1",
  "fec0::1",
  "ff02::1",
  "2001:2::1",
  // IPv4 inside IPv6, leading to private addresses
  "::ffff:127.0.0.1",
  "::ffff:a9fe:a9fe",
  "::ffff:0:a00:1", // IPv4-translated (RFC 6145) 10.0.0.1
  "64:ff9b::a9fe:a9fe", // NAT64 169.254.169.254
  "64:ff9b::7f00:1",
  "64:ff9b::c0a8:101",
  "64:ff9b:1::808:808", // NAT64 local-use prefix, refused whole
  "::a9fe:a9fe", // IPv4-compatible 169.254.169.254
  "::169.254.169.254",
  "::8.8.8.8", // IPv4-compatible is deprecated: refused whatever it embeds
  "2002:a9fe:a9fe::1", // 6to4 169.254.169.254
  "2002:7f00:1::",
  "2002:c612:1::1", // 6to4 198.18.0.1
  "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
];

const ALLOWED = ["8.8.8.8", "151.101.1.69", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"];

describe("private-address guard", () => {
  it(`refuses ${REFUSED.length} special-purpose and embedded forms and allows public unicast`, () => {
    for (const address of REFUSED) expect(isPrivateAddress(address), address).toBe(true);
    for (const address of ALLOWED) expect(isPrivateAddress(address), address).toBe(false);
  });

  it("refuses the URL spellings the URL parser normalises (decimal, hex, octal, bracketed IPv6)", async () => {
    const urls = [
      "http://2130706433/",
      "http://0x7f.1/",
      "http://0177.0.0.1/",
      "http://[::169.254.169.254]/latest/meta-data/",
      "http://[64:ff9b::169.254.169.254]/",
      "http://[::ffff:169.254.169.254]/",
      "http://[2002:a9fe:a9fe::1]/",
      "http://198.18.0.1/",
    ];
    for (const url of urls) await expect(assertPublicHost(new URL(url)), url).rejects.toThrow(/--allow-private/);
  });

  describe("against a local server", () => {
    let server: Server;
    let port = 0;
    let hits = 0;
    beforeAll(async () => {
      server = createServer((_request, response) => {
        hits++;
        response.writeHead(200, { "content-type": "text/html" });
        response.end("<html><body><p>secret metadata</p></body></html>");
      });
      await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
      const address = server.address();
      port = typeof address === "object" && address ? address.port : 0;
    });
    afterAll(() => new Promise<void>((done) => server.close(() => done())));

    it("connects only to the address it checked: a rebinding resolver is refused in the connect step", async () => {
      // First answer public (the check before the request), then loopback (what a rebinding DNS server does
      // for the connection). `localhost` really is 127.0.0.1 here, so a guard that checks but lets the system
      // resolve again would reach the server.
      const answers: string[][] = [];
      const rebinding: Resolve = async () => {
        const answer = answers.length === 0 ? ["93.184.216.34"] : ["127.0.0.1"];
        answers.push(answer);
        return answer;
      };
      hits = 0;
      const out = mkdtempSync(join(tmpdir(), "ssrf-"));
      const summary = await scrapePages({
        urls: [`http://localhost:${port}/page.html`],
        out,
        source: "test",
        respectRobots: false,
        retries: 0,
        resolve: rebinding,
      });
      expect(hits).toBe(0);
      expect(answers.length).toBeGreaterThanOrEqual(2);
      expect(summary.failures).toEqual([
        {
          url: `http://localhost:${port}/page.html`,
          reason: expect.stringMatching(/private address 127\.0\.0\.1.*--allow-private/),
        },
      ]);
    });

    it("a refused links URL is a UserError that names the URL and --allow-private", async () => {
      for (const url of [`http://127.0.0.1:${port}/links.txt`, "http://[::169.254.169.254]/links.txt"]) {
        const error = await readLinks(url, { cwd: tmpdir() }).catch((e: unknown) => e);
        expect(error, url).toBeInstanceOf(UserError);
        expect(String(error), url).toContain(url);
        expect(error instanceof UserError ? error.notes.join(" ") : "", url).toContain("--allow-private");
      }
      // Rebinding on the links URL is refused in the connect step, also as a UserError.
      let calls = 0;
      const rebinding: Resolve = async () => (calls++ === 0 ? ["93.184.216.34"] : ["127.0.0.1"]);
      hits = 0;
      const error = await readLinks(`http://localhost:${port}/links.txt`, { cwd: tmpdir(), resolve: rebinding }).catch(
        (e: unknown) => e,
      );
      expect(hits).toBe(0);
      expect(error).toBeInstanceOf(UserError);
      expect(String(error)).toMatch(/localhost resolves to private address 127\.0\.0\.1/);
    });
  });
});
