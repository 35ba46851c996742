/**
 * Certificates for offline TLS tests: a CA the test creates with the openssl CLI and a server certificate it
 * signs for the given host names, written to a temporary directory. Nothing is fetched or installed.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  dir: string;
  /** PEM file of the CA certificate (what a client trusts). */
  caFile: string;
  key: string;
  cert: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** A fresh CA named `name` and a server certificate from it for `hosts` (DNS names or IPs). */
export function createTestCa(name: string, hosts: readonly string[]): TestCa {
  const dir = mkdtempSync(join(tmpdir(), `cml-lab-ca-${name}-`));
  openssl(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2"]
      .concat(["-subj", `/CN=${name} test CA`, "-addext", "basicConstraints=critical,CA:TRUE"])
      .concat(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]),
    dir,
  );
  openssl(
    ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr"].concat([
      "-subj",
      `/CN=${hosts[0]}`,
    ]),
    dir,
  );
  const san = hosts.map((host) => (/^[\d.]+$|:/.test(host) ? `IP:${host}` : `DNS:${host}`)).join(",");
  writeFileSync(join(dir, "ext.cnf"), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "server.pem",
    ].concat(["-days", "2", "-extfile", "ext.cnf"]),
    dir,
  );
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    key: readFileSync(join(dir, "server.key"), "utf8"),
    cert: readFileSync(join(dir, "server.pem"), "utf8"),
  };
}
