// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the manifest syntax itself is ${…}, written in plain strings.
/**
 * `${…}` references, one scheme everywhere: `${var.x}`, `${env:X}`, `${secret:X}`, `${resources.<kind>.<key>.<field>}`
 * (`${resources.project.<field>}` for the project). `$${` writes a literal `${`. `${secret:X?}` is an optional secret:
 * when X is unset or empty the env entry is left out (an optional back-end the workload reports as unconfigured).
 */
import type { ResourceKey } from "./model.js";

export type Reference =
  | { kind: "var"; name: string }
  | { kind: "env"; name: string }
  | { kind: "secret"; name: string; optional?: boolean }
  | {
      kind: "resource";
      resource: ResourceKey;
      section: "project" | "jobs" | "applications" | "models";
      key: string;
      field: string;
    };

export type TemplatePart = { text: string } | { ref: Reference; raw: string };

export type ParsedTemplate = { ok: true; parts: TemplatePart[] } | { ok: false; message: string; hint?: string };

/** Fields of live objects a `${resources…}` reference can name; the engine fills them in during apply. */
export const REFERENCE_FIELDS = {
  project: ["id", "name"],
  jobs: ["id", "name"],
  applications: ["id", "name", "subdomain", "url"],
  models: ["id", "name", "crn", "access_key"],
} as const;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEY = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const USAGE = "use ${var.name}, ${env:NAME}, ${secret:NAME} or ${resources.<kind>.<key>.<field>}";

export function hasReference(s: string): boolean {
  return s.includes("${");
}

export function parseTemplate(s: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let text = "";
  let i = 0;
  while (i < s.length) {
    if (s.startsWith("$${", i)) {
      text += "${";
      i += 3;
      continue;
    }
    if (s.startsWith("${", i)) {
      const end = s.indexOf("}", i + 2);
      if (end < 0)
        return {
          ok: false,
          message: `unterminated reference ${JSON.stringify(s.slice(i, i + 30))}`,
          hint: "close it with }, or write $${ for a literal ${",
        };
      const raw = s.slice(i, end + 1);
      const ref = parseReference(s.slice(i + 2, end).trim());
      if ("message" in ref) return { ok: false, message: `${ref.message} in ${raw}`, hint: ref.hint ?? USAGE };
      if (text) parts.push({ text });
      text = "";
      parts.push({ ref, raw });
      i = end + 1;
      continue;
    }
    text += s[i];
    i++;
  }
  if (text || parts.length === 0) parts.push({ text });
  return { ok: true, parts };
}

function parseReference(body: string): Reference | { message: string; hint?: string } {
  const colon = /^(env|secret):(.*)$/.exec(body);
  if (colon) {
    const [, kind, spelled = ""] = colon;
    const optional = kind === "secret" && spelled.endsWith("?");
    const name = optional ? spelled.slice(0, -1) : spelled;
    if (!NAME.test(name)) return { message: `"${spelled}" is not an environment variable name` };
    if (kind === "env") return { kind: "env", name };
    return optional ? { kind: "secret", name, optional } : { kind: "secret", name };
  }
  const dotted = body.split(".");
  const [head, ...rest] = dotted;
  if (head === "var") {
    const name = rest.join(".");
    if (rest.length !== 1 || !NAME.test(name)) return { message: `"${name}" is not a variable name` };
    return { kind: "var", name };
  }
  if (head === "resources") {
    const [section, ...tail] = rest;
    if (section === "project") {
      const [field] = tail;
      if (tail.length !== 1 || !field)
        return { message: "a project reference looks like ${resources.project.<field>}" };
      return { kind: "resource", resource: "project", section, key: "project", field };
    }
    if (section === "jobs" || section === "applications" || section === "models") {
      const [key, field] = tail;
      if (tail.length !== 2 || !key || !field || !KEY.test(key))
        return { message: `a resource reference looks like \${resources.${section}.<key>.<field>}` };
      return { kind: "resource", resource: `${section}.${key}`, section, key, field };
    }
    return { message: `unknown resource kind "${section ?? ""}"`, hint: "kinds: project, jobs, applications, models" };
  }
  if (head === "vars" || head === "variables")
    return { message: `unknown reference "${body}"`, hint: `did you mean \${var.${rest.join(".")}}?` };
  if (head === "env" || head === "secret")
    return { message: `unknown reference "${body}"`, hint: `write \${${head}:${rest.join(".")}}` };
  return { message: `unknown reference "${body}"` };
}
