/**
 * The one rule for what is a secret and the one way to keep it out of text. Names decide which environment
 * values are secrets (the manifest's `${secret:…}` marks others); `redact` replaces every occurrence of each
 * value with `(secret)` before text reaches a terminal, a log, an event or an HTTP response.
 */

/** Variable names whose values are secrets wherever they appear: manifests, imports, plans, app logs. */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Shorter values would redact ordinary words ("true", "dev") everywhere they appear. */
const MIN_SECRET_LENGTH = 4;

export function redact(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  const values = [...secrets]
    .filter((s): s is string => typeof s === "string" && s.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const value of values) out = out.split(value).join("(secret)");
  return out;
}

/** The values of every secret-named variable in `env`, for `redact`. */
export function secretValuesOf(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter(isSecretName)
    .map((name) => env[name] ?? "")
    .filter((value) => value.length >= MIN_SECRET_LENGTH);
}
