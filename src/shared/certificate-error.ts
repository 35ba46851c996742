/**
 * Recognises a TLS certificate the process does not trust in the cause chain of a failed request (undici
 * reports it as TypeError("fetch failed") with the socket error as cause; the AWS SDK passes the socket error
 * through), so that callers do not retry it and the CLI names the fix instead of calling it a bug.
 * Kept apart from outbound.ts so the client package does not load the proxy agents to classify an error.
 */
const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

function causeCode(error: unknown): { code: string; message: string } | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = "code" in current ? current.code : undefined;
    if (typeof code === "string" && CERTIFICATE_CODES.has(code)) return { code, message: current.message };
  }
  return undefined;
}

/** Whether the failure is a certificate the process does not trust: retrying cannot help. */
export function isCertificateError(error: unknown): boolean {
  return causeCode(error) !== undefined;
}

/**
 * One line for a certificate failure, naming the host, the reason and the fix; undefined for other errors.
 * Verification is never turned off: the fix is to trust the CA that signed the server's certificate.
 */
export function certificateErrorMessage(error: unknown, host?: string): string | undefined {
  const found = causeCode(error);
  if (!found) return undefined;
  const where = host ? ` from ${host}` : "";
  const fix =
    found.code === "ERR_TLS_CERT_ALTNAME_INVALID"
      ? "the certificate is for another host name; use the name the certificate was issued for"
      : "if your network uses an internal CA, set NODE_EXTRA_CA_CERTS or CML_LAB_CA_BUNDLE to its PEM file";
  return `TLS certificate${where} not trusted (${found.code}: ${found.message}); ${fix}`;
}
