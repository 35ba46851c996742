/** Identifier shapes as CML issues them (openapi/FACTS.md §4 "IDs"), so clients that validate ids accept ours. */
import { randomBytes, randomUUID } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

function randomChars(count: number): string {
  const bytes = randomBytes(count);
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/** Projects, jobs, runs and applications: 19 characters, `xxxx-xxxx-xxxx-xxxx`. */
export function shortId(): string {
  return [randomChars(4), randomChars(4), randomChars(4), randomChars(4)].join("-");
}

/** Models, builds and deployments: UUIDs (the id part of their CRN). */
export function uuid(): string {
  return randomUUID();
}

/** A model's access key: identifies the model, not a credential on its own. */
export function accessKey(): string {
  return randomChars(32);
}

/** API v2 keys look like `hex64.hex64`. */
export function apiKey(): string {
  return `${randomBytes(32).toString("hex")}.${randomBytes(32).toString("hex")}`;
}

export function nowIso(): string {
  return new Date().toISOString();
}
