// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the manifest syntax itself is ${…}, written in plain strings.
/**
 * Reading one value from the tree: interpolation of `${…}`, conversion of whole-reference numbers and booleans,
 * env maps with secrets and resource references kept symbolic, runtimes and project-relative paths. Every
 * problem becomes a located diagnostic. resolve.ts walks the manifest with these.
 */
import path from "node:path";
import { BoundedReadError, readBoundedFile } from "../../shared/bounded-read.js";
import { isSecretName } from "../../shared/secrets.js";
import type { Diagnostic, DiagnosticLocation } from "./diagnostic.js";
import { parseTemplate, REFERENCE_FIELDS, type Reference } from "./interpolate.js";
import type { EnvMap, EnvValue, ResourceKey, RuntimeChoice } from "./model.js";
import { OWNER_ENV_KEY } from "./model.js";
import { NUMBER_LIMITS } from "./schema.js";
import { didYouMean } from "./suggest.js";
import { child, mapEntries, type TreeNode } from "./yaml-tree.js";

export interface ResolveOptions {
  target?: string;
  vars?: Record<string, string>;
  env: NodeJS.ProcessEnv;
  missingSecrets?: "error" | "warn";
}

/** A secret file holds a key or a password; anything larger is not one (and is not read into memory). */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

type Mode = "text" | "env";

export class ValueReader {
  readonly diagnostics: Diagnostic[] = [];
  protected vars = new Map<string, { value?: string; loc: DiagnosticLocation }>();
  protected knownResources = new Set<ResourceKey>();
  /** Whose references are being read; "defaults" while reading defaults.env (they count for every resource). */
  protected currentResource: ResourceKey | "defaults" = "project";
  protected defaultRefs: { envKey: string; to: ResourceKey; loc: DiagnosticLocation; path: string }[] = [];
  protected references = new Map<ResourceKey, { to: ResourceKey; loc: DiagnosticLocation; path: string }[]>();

  constructor(
    protected readonly sources: Map<string, readonly string[]>,
    protected readonly opts: ResolveOptions,
  ) {}

  error(
    message: string,
    loc: DiagnosticLocation | undefined,
    path?: string,
    hint?: string,
    severity: "error" | "warning" = "error",
  ): void {
    this.diagnostics.push({
      severity,
      message,
      ...(loc ? { location: loc, source: this.sources.get(loc.file)?.[loc.line - 1] ?? "" } : {}),
      ...(path ? { path } : {}),
      ...(hint ? { hint } : {}),
    });
  }

  protected projectPath(p: string, node: TreeNode | undefined, at: string, allowTrailingSlash = false): string {
    let out = p.replace(/^(\.\/)+/, "");
    if (!allowTrailingSlash) out = out.replace(/\/+$/, "");
    if (path.posix.isAbsolute(out) || out.split("/").includes("..") || out.includes("\\"))
      this.error(
        `${at} must be a project-relative path (no leading /, no .., forward slashes), got ${JSON.stringify(p)}`,
        node?.loc,
        at,
      );
    else if (p !== "" && out === "") this.error(`${at} names the project root, not a file`, node?.loc, at);
    return out;
  }

  protected stringList(node: TreeNode | undefined, at: string): string[] {
    if (node?.kind !== "seq") return [];
    return node.items.map((item, i) => this.text(item, `${at}[${i}]`) ?? "");
  }

  /** Why a resource is switched off (`enabled` / `requires`), if it is; the resolver knows. */
  protected skippedReason(_resource: ResourceKey): string | undefined {
    return undefined;
  }

  /** `text` without diagnostics: for a value read early that the full pass reads (and reports on) again. */
  protected quietText(node: TreeNode | undefined, at: string): string | undefined {
    const before = this.diagnostics.length;
    const value = this.text(node, at);
    this.diagnostics.splice(before);
    return value;
  }

  /** A text field; numbers and booleans written where text is expected are taken as their text. */
  text(node: TreeNode | undefined, at: string): string | undefined {
    if (node?.kind !== "scalar" || node.value === null) return undefined;
    if (typeof node.value !== "string") return String(node.value);
    const value = this.interpolate(node.value, node.loc, at, "text");
    return typeof value === "string" ? value : undefined;
  }

  /** A number field; its upper bound is NUMBER_LIMITS of the field's name (the last segment of `at`). */
  number(node: TreeNode | undefined, at: string, integer = false): number | undefined {
    if (node?.kind !== "scalar" || node.value === null) return undefined;
    const field = at.slice(at.lastIndexOf(".") + 1);
    const limits: Readonly<Record<string, number>> = NUMBER_LIMITS;
    const max = limits[field] ?? Number.MAX_SAFE_INTEGER;
    const text = typeof node.value === "number" ? String(node.value) : this.text(node, at);
    if (text === undefined) return undefined;
    const n = typeof node.value === "number" ? node.value : text.trim() === "" ? Number.NaN : Number(text);
    if (!Number.isFinite(n) || n < 0 || n > max || (integer && !Number.isInteger(n))) {
      const range = `${integer ? "a whole number" : "a number"} from 0 to ${max}`;
      this.error(
        typeof node.value === "number"
          ? `${at} must be ${range}, not ${text}`
          : `${at} must be ${range}, but ${String(node.value)} is ${JSON.stringify(text)}`,
        node.loc,
        at,
      );
      return undefined;
    }
    return n;
  }

  bool(node: TreeNode | undefined, at: string): boolean | undefined {
    if (node?.kind !== "scalar" || node.value === null) return undefined;
    if (typeof node.value === "boolean") return node.value;
    const text = this.text(node, at);
    if (text === undefined) return undefined;
    if (text === "true" || text === "false") return text === "true";
    this.error(`${at} must be true or false, but ${String(node.value)} is ${JSON.stringify(text)}`, node.loc, at);
    return undefined;
  }

  env(node: TreeNode | undefined, at: string): EnvMap {
    const out: Record<string, EnvValue> = {};
    for (const e of mapEntries(node)) {
      const where = `${at}.${e.key}`;
      if (e.key === OWNER_ENV_KEY) {
        this.error(
          `${OWNER_ENV_KEY} is reserved: cml-lab sets it to the stack name to mark what it owns`,
          e.keyLoc,
          where,
        );
        continue;
      }
      const raw = e.value.kind === "scalar" ? e.value.value : null;
      if (raw === null) continue;
      if (typeof raw !== "string") {
        out[e.key] = String(raw);
        continue;
      }
      if (raw !== "" && !raw.includes("${") && isSecretName(e.key))
        this.error(
          `${where} looks like a secret written in plain text`,
          e.value.loc,
          where,
          `use \${secret:${e.key}} and pass the value through the environment`,
          "warning",
        );
      const value = this.interpolate(raw, e.value.loc, where, "env");
      if (value !== undefined) out[e.key] = value;
    }
    return out;
  }

  runtime(node: TreeNode | undefined, at: string): RuntimeChoice | undefined {
    if (node?.kind !== "map") return undefined;
    const field = (k: string) => this.text(child(node, k), `${at}.${k}`);
    const identifier = field("identifier");
    const editor = field("editor");
    const kernel = field("kernel");
    const edition = field("edition");
    const version = field("version");
    const addonsNode = child(node, "addons");
    const addons = addonsNode ? { addons: this.stringList(addonsNode, `${at}.addons`) } : {};
    const named = { editor, kernel, edition, version };
    const setNamed = Object.entries(named)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k);
    if (identifier !== undefined) {
      if (setNamed.length > 0) {
        this.error(
          `${at} sets both identifier and ${listing(setNamed)}`,
          node.loc,
          at,
          "use either identifier, or editor + kernel + edition (+ version)",
        );
        return undefined;
      }
      return { identifier, ...addons };
    }
    const missing = (["editor", "kernel", "edition"] as const).filter((k) => named[k] === undefined);
    if (missing.length > 0) {
      this.error(
        setNamed.length
          ? `${at} is half set: it has ${listing(setNamed)} but no ${listing(missing)}`
          : `${at} names no runtime`,
        node.loc,
        at,
        "use either identifier, or editor + kernel + edition (+ version)",
      );
      return undefined;
    }
    return {
      editor: editor ?? "",
      kernel: kernel ?? "",
      edition: edition ?? "",
      ...(version !== undefined ? { version } : {}),
      ...addons,
    };
  }

  /** Resolves `${…}` in one string. In env values a whole-value secret or resource reference stays symbolic. */
  private interpolate(raw: string, loc: DiagnosticLocation, at: string, mode: Mode, depth = 0): EnvValue | undefined {
    if (!raw.includes("${")) return raw;
    const parsed = parseTemplate(raw);
    if (!parsed.ok) {
      this.error(`${at}: ${parsed.message}`, loc, at, parsed.hint);
      return undefined;
    }
    const whole = parsed.parts.length === 1 ? parsed.parts[0] : undefined;
    let out = "";
    let failed = false;
    for (const part of parsed.parts) {
      if ("text" in part) {
        out += part.text;
        continue;
      }
      const ref = part.ref;
      if (ref.kind === "secret" || ref.kind === "resource") {
        if (mode !== "env" || part !== whole) {
          this.error(
            `${at}: ${part.raw} can only be the whole value of an env entry`,
            loc,
            at,
            ref.kind === "secret"
              ? "secrets go only into env values, so they never appear in names or output"
              : undefined,
          );
          failed = true;
          continue;
        }
        if (ref.kind === "secret") return this.secret(ref.name, loc, at, ref.optional === true);
        return this.resourceRef(ref, loc, at);
      }
      const value = this.lookup(ref, loc, at);
      if (value === undefined) failed = true;
      else if (ref.kind === "var" && value.includes("${") && depth < 4) {
        // A variable may hold a reference (a per-target secret or resource field): resolve it where it is used.
        const inner = this.interpolate(value, loc, at, part === whole ? mode : "text", depth + 1);
        if (inner === undefined) failed = true;
        else if (typeof inner !== "string") return inner;
        else out += inner;
      } else out += value;
    }
    return failed ? undefined : out;
  }

  private lookup(
    ref: Extract<Reference, { kind: "var" | "env" }>,
    loc: DiagnosticLocation,
    at: string,
  ): string | undefined {
    if (ref.kind === "env") {
      const value = this.opts.env[ref.name];
      if (value === undefined)
        this.error(`${at}: environment variable ${ref.name} is not set`, loc, at, `export ${ref.name}=…`);
      return value;
    }
    const known = this.vars.get(ref.name);
    if (!known) {
      this.error(
        `${at}: unknown variable "${ref.name}"`,
        loc,
        at,
        didYouMean(ref.name, this.vars.keys()) ?? "declare it under variables:",
      );
      return undefined;
    }
    if (known.value === undefined) {
      this.error(
        `${at}: variable "${ref.name}" has no value`,
        loc,
        at,
        `give it a default, a value in targets.<target>.variables, --var ${ref.name}=… or CML_LAB_VAR_${ref.name}`,
      );
      return undefined;
    }
    return known.value;
  }

  private secret(name: string, loc: DiagnosticLocation, at: string, optional = false): EnvValue | undefined {
    // An optional secret set to "" is unset, as for `requires` (resolve.ts): a CI secret that does not exist.
    const direct = this.opts.env[name];
    if (direct !== undefined && !(optional && direct === "")) return { kind: "secret", name, value: direct };
    const file = this.opts.env[`${name}_FILE`];
    if (file !== undefined && !(optional && file === "")) {
      // A secret file may live anywhere (it is a secret by design), but it must be a small regular file, and
      // neither its content nor any part of it is ever quoted.
      let bytes: Buffer;
      try {
        bytes = readBoundedFile(file, MAX_SECRET_FILE_BYTES);
      } catch (error) {
        const reason = error instanceof BoundedReadError ? error.reasonText : "cannot be read";
        this.error(`${at}: cannot read the file named by ${name}_FILE: ${reason}`, loc, at);
        return undefined;
      }
      let value: string;
      try {
        value = new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/\r?\n$/, "");
      } catch {
        value = "\u0000"; // refused just below, with the same words
      }
      if (value.includes("\u0000")) {
        this.error(
          `${at}: the file named by ${name}_FILE is not UTF-8 text without NUL bytes, so no process could receive it`,
          loc,
          at,
        );
        return undefined;
      }
      return { kind: "secret", name, value };
    }
    // Optional and unset: no value and no diagnostic, so env() leaves the entry out.
    if (optional) return undefined;
    const allowMissing = this.opts.missingSecrets === "warn";
    this.error(
      `${at}: secret ${name} is not set${allowMissing ? " (plan and apply need it)" : ""}`,
      loc,
      at,
      `export ${name}, or ${name}_FILE=<path of a file holding it>`,
      allowMissing ? "warning" : "error",
    );
    // With warnings only, the manifest is still checked in full; the empty value never reaches the engine
    // because only validate asks for this mode.
    return allowMissing ? { kind: "secret", name, value: "" } : undefined;
  }

  private resourceRef(
    ref: Extract<Reference, { kind: "resource" }>,
    loc: DiagnosticLocation,
    at: string,
  ): EnvValue | undefined {
    if (this.currentResource === "project") {
      this.error(
        `${at}: the project cannot refer to ${ref.resource}`,
        loc,
        at,
        "the project env is set when the project is created, before any id exists; set the value on the resources that need it",
      );
      return undefined;
    }
    if (!this.knownResources.has(ref.resource)) {
      const keys = [...this.knownResources]
        .filter((k) => k.startsWith(`${ref.section}.`))
        .map((k) => k.slice(ref.section.length + 1));
      this.error(
        `${at}: unknown resource ${ref.resource}`,
        loc,
        at,
        didYouMean(ref.key, keys) ??
          (keys.length ? `${ref.section}: ${keys.join(", ")}` : `the manifest declares no ${ref.section}`),
      );
      return undefined;
    }
    const skipped = this.skippedReason(ref.resource);
    if (skipped !== undefined) {
      this.error(
        `${at}: ${ref.resource} is skipped (${skipped}), so it has no ${ref.field}`,
        loc,
        at,
        "give this resource the same enabled/requires switch, or set what the other one needs",
      );
      return undefined;
    }
    const fields: readonly string[] = REFERENCE_FIELDS[ref.section];
    if (!fields.includes(ref.field)) {
      this.error(
        `${at}: ${ref.resource} has no field "${ref.field}"`,
        loc,
        at,
        didYouMean(ref.field, fields) ?? `fields: ${fields.join(", ")}`,
      );
      return undefined;
    }
    if (this.currentResource === "defaults")
      this.defaultRefs.push({ envKey: at.split(".").at(-1) ?? "", to: ref.resource, loc, path: at });
    else this.addReference(this.currentResource, { to: ref.resource, loc, path: at });
    return { kind: "ref", resource: ref.resource, field: ref.field };
  }

  protected addReference(from: ResourceKey, ref: { to: ResourceKey; loc: DiagnosticLocation; path: string }): void {
    const list = this.references.get(from) ?? [];
    list.push(ref);
    this.references.set(from, list);
  }

  /** defaults.env under a resource's own env; references in the defaults it keeps become its references. */
  protected withDefaults(defaults: EnvMap, own: EnvMap): EnvMap {
    const resource = this.currentResource;
    if (resource !== "defaults" && resource !== "project")
      for (const r of this.defaultRefs) if (!(r.envKey in own)) this.addReference(resource, r);
    return { ...defaults, ...own };
  }
}

function listing(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}
