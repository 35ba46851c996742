/** Replaces every occurrence of each secret value with `(secret)` before text reaches a terminal or a file. */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  const values = [...secrets]
    .filter((s): s is string => typeof s === "string" && s.length >= 4)
    .sort((a, b) => b.length - a.length);
  for (const value of values) out = out.split(value).join("(secret)");
  return out;
}
