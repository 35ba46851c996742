/** Small helpers for reading third-party HTTP answers defensively. */
import { redact } from "../../shared/secrets.js";

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** ": <upstream message>" from an error body, short and scrubbed; upstream bodies can echo the request. */
export async function errorDetail(response: Response, secrets: readonly (string | undefined)[]): Promise<string> {
  const text = await response.text().catch(() => "");
  let message = text;
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) {
      const inner = isRecord(parsed.error) ? parsed.error.message : (parsed.message ?? parsed.error);
      if (typeof inner === "string") message = inner;
    }
  } catch {
    // not JSON: use the text
  }
  message = message.replace(/\s+/g, " ").trim().slice(0, 200);
  message = redact(message, secrets);
  return message ? `: ${message}` : "";
}
