// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the manifest syntax itself is ${…}, written in plain strings.
/**
 * From a merged, structurally valid tree to the ResolvedManifest the engine consumes: choose the target, give
 * variables their values, interpolate every text field, convert whole-reference numbers and booleans, and apply
 * defaults. Every problem becomes a located diagnostic; nothing throws for a user mistake.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Diagnostic, DiagnosticLocation } from "./diagnostic.js";
import { parseTemplate, REFERENCE_FIELDS, type Reference } from "./interpolate.js";
import type {
  ApplicationSpec,
  ComputeResources,
  EnvMap,
  EnvValue,
  FileSyncSpec,
  JobSpec,
  ModelSpec,
  ProjectSpec,
  ResourceKey,
  RuntimeChoice,
  TargetSpec,
} from "./model.js";
import { OWNER_ENV_KEY } from "./model.js";
import { didYouMean } from "./suggest.js";
import { child, entry, type MapNode, type TreeNode } from "./yaml-tree.js";

export interface ResolveOptions {
  target?: string;
  vars?: Record<string, string>;
  env: NodeJS.ProcessEnv;
  missingSecrets?: "error" | "warn";
}

/** The resolved manifest minus `file`, plus where each field came from (for semantic checks). */
export interface Resolved {
  name: string;
  target: TargetSpec;
  project: ProjectSpec;
  /** Project-relative paths declared as already present (project.existing_paths). */
  existingPaths: string[];
  files: FileSyncSpec[];
  jobs: Record<string, JobSpec>;
  applications: Record<string, ApplicationSpec>;
  models: Record<string, ModelSpec>;
  /** Resource → resources it references through `${resources…}` (the engine orders by these too). */
  references: Map<ResourceKey, { to: ResourceKey; loc: DiagnosticLocation; path: string }[]>;
}

const DEFAULT_COMPUTE: ComputeResources = { cpu: 1, memory: 2, gpu: 0 };
const SECRET_LIKE = /(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY)/i;

type Mode = "text" | "env";

export class Resolver {
  readonly diagnostics: Diagnostic[] = [];
  private vars = new Map<string, { value?: string; loc: DiagnosticLocation }>();
  private knownResources = new Set<ResourceKey>();
  /** Whose references are being read; "defaults" while reading defaults.env (they count for every resource). */
  private currentResource: ResourceKey | "defaults" = "project";
  private defaultRefs: { envKey: string; to: ResourceKey; loc: DiagnosticLocation; path: string }[] = [];
  private references = new Map<ResourceKey, { to: ResourceKey; loc: DiagnosticLocation; path: string }[]>();

  constructor(
    private readonly root: MapNode,
    private readonly sources: Map<string, readonly string[]>,
    private readonly dirOf: (loc: DiagnosticLocation) => string,
    private readonly opts: ResolveOptions,
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

  resolve(): Resolved | undefined {
    for (const section of ["jobs", "applications", "models"] as const)
      for (const e of mapEntries(child(this.root, section))) this.knownResources.add(`${section}.${e.key}`);
    this.knownResources.add("project");

    const chosenTarget = this.resolveTarget();
    this.resolveVariables(chosenTarget?.name);
    const target = chosenTarget && this.resolveTargetUrl(chosenTarget);
    const name = this.text(child(this.root, "name"), "name") ?? "";
    if (name && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name))
      this.error(
        `name must be 1–64 letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`,
        child(this.root, "name")?.loc,
        "name",
      );

    const project = this.resolveProject();
    const defaults = child(this.root, "defaults");
    const defaultRuntime = this.runtime(child(defaults, "runtime"), "defaults.runtime");
    const defaultCompute: ComputeResources = {
      cpu: this.number(child(defaults, "cpu"), "defaults.cpu") ?? DEFAULT_COMPUTE.cpu,
      memory: this.number(child(defaults, "memory"), "defaults.memory") ?? DEFAULT_COMPUTE.memory,
      gpu: this.number(child(defaults, "gpu"), "defaults.gpu", true) ?? DEFAULT_COMPUTE.gpu,
    };
    this.currentResource = "defaults";
    const defaultEnv = this.env(child(defaults, "env"), "defaults.env");
    const existingPaths = this.stringList(
      child(entry(this.root, "project")?.value, "existing_paths"),
      "project.existing_paths",
    ).map((p, i) =>
      this.projectPath(p, child(child(this.root, "project"), "existing_paths"), `project.existing_paths[${i}]`, true),
    );
    const files = this.resolveFiles();

    const compute = (node: TreeNode | undefined, at: string, base: ComputeResources): ComputeResources => ({
      cpu: this.number(child(node, "cpu"), `${at}.cpu`) ?? base.cpu,
      memory: this.number(child(node, "memory"), `${at}.memory`) ?? base.memory,
      gpu: this.number(child(node, "gpu"), `${at}.gpu`, true) ?? base.gpu,
    });
    const runtimeFor = (node: TreeNode | undefined, at: string, loc: DiagnosticLocation): RuntimeChoice => {
      const own = this.runtime(child(node, "runtime"), `${at}.runtime`);
      const chosen = own ?? defaultRuntime;
      if (!chosen && !child(node, "runtime") && !child(defaults, "runtime"))
        this.error(`${at} has no runtime`, loc, `${at}.runtime`, "set defaults.runtime, or runtime: on this resource");
      return chosen ?? { identifier: "" };
    };

    const jobs: Record<string, JobSpec> = {};
    for (const e of mapEntries(child(this.root, "jobs"))) {
      const at = `jobs.${e.key}`;
      this.currentResource = `jobs.${e.key}`;
      const n = e.value;
      const schedule = this.text(child(n, "schedule"), `${at}.schedule`);
      const after = this.text(child(n, "after"), `${at}.after`);
      jobs[e.key] = {
        key: e.key,
        location: e.keyLoc,
        preventDestroy: this.bool(child(n, "prevent_destroy"), `${at}.prevent_destroy`) ?? false,
        name: this.text(child(n, "name"), `${at}.name`) ?? e.key,
        script: this.projectPath(
          this.text(child(n, "script"), `${at}.script`) ?? "",
          child(n, "script"),
          `${at}.script`,
        ),
        arguments: this.text(child(n, "arguments"), `${at}.arguments`) ?? "",
        ...(schedule !== undefined && schedule !== "" ? { schedule } : {}),
        ...(after !== undefined ? { after } : {}),
        runtime: runtimeFor(n, at, e.keyLoc),
        resources: compute(n, at, defaultCompute),
        timeout: this.number(child(n, "timeout"), `${at}.timeout`, true) ?? 0,
        killOnTimeout: this.bool(child(n, "kill_on_timeout"), `${at}.kill_on_timeout`) ?? false,
        paused: this.bool(child(n, "paused"), `${at}.paused`) ?? false,
        env: this.withDefaults(defaultEnv, this.env(child(n, "env"), `${at}.env`)),
      };
    }

    const applications: Record<string, ApplicationSpec> = {};
    for (const e of mapEntries(child(this.root, "applications"))) {
      const at = `applications.${e.key}`;
      this.currentResource = `applications.${e.key}`;
      const n = e.value;
      applications[e.key] = {
        key: e.key,
        location: e.keyLoc,
        preventDestroy: this.bool(child(n, "prevent_destroy"), `${at}.prevent_destroy`) ?? false,
        name: this.text(child(n, "name"), `${at}.name`) ?? e.key,
        subdomain: this.text(child(n, "subdomain"), `${at}.subdomain`) ?? "",
        description: this.text(child(n, "description"), `${at}.description`) ?? "",
        script: this.projectPath(
          this.text(child(n, "script"), `${at}.script`) ?? "",
          child(n, "script"),
          `${at}.script`,
        ),
        runtime: runtimeFor(n, at, e.keyLoc),
        resources: compute(n, at, defaultCompute),
        bypassAuthentication: this.bool(child(n, "bypass_authentication"), `${at}.bypass_authentication`) ?? false,
        env: this.withDefaults(defaultEnv, this.env(child(n, "env"), `${at}.env`)),
      };
    }

    const models: Record<string, ModelSpec> = {};
    for (const e of mapEntries(child(this.root, "models"))) {
      const at = `models.${e.key}`;
      this.currentResource = `models.${e.key}`;
      const n = e.value;
      const deployment = child(n, "deployment");
      models[e.key] = {
        key: e.key,
        location: e.keyLoc,
        preventDestroy: this.bool(child(n, "prevent_destroy"), `${at}.prevent_destroy`) ?? false,
        name: this.text(child(n, "name"), `${at}.name`) ?? e.key,
        description: this.text(child(n, "description"), `${at}.description`) ?? "",
        file: this.projectPath(this.text(child(n, "file"), `${at}.file`) ?? "", child(n, "file"), `${at}.file`),
        function: this.text(child(n, "function"), `${at}.function`) ?? "",
        runtime: runtimeFor(n, at, e.keyLoc),
        authEnabled: this.bool(child(n, "auth_enabled"), `${at}.auth_enabled`) ?? true,
        deployment: {
          resources: compute(deployment, `${at}.deployment`, defaultCompute),
          replicas: this.number(child(deployment, "replicas"), `${at}.deployment.replicas`, true) ?? 1,
          env: this.withDefaults(defaultEnv, this.env(child(deployment, "env"), `${at}.deployment.env`)),
        },
      };
    }

    this.warnUnusedVariables();
    if (!target) return undefined;
    return { name, target, project, existingPaths, files, jobs, applications, models, references: this.references };
  }

  private resolveTarget(): TargetSpec | undefined {
    const section = child(this.root, "targets");
    const targets = mapEntries(section);
    const wanted = this.opts.target;
    if (targets.length === 0) {
      if (wanted !== undefined && wanted !== "local") {
        this.error(
          `unknown target "${wanted}": the manifest declares no targets (only the implicit "local")`,
          undefined,
          "--target",
        );
        return undefined;
      }
      return { name: "local", local: true };
    }
    let chosen: (typeof targets)[number] | undefined;
    if (wanted !== undefined) {
      chosen = targets.find((t) => t.key === wanted);
      if (!chosen) {
        this.error(
          `unknown target "${wanted}"`,
          undefined,
          "--target",
          didYouMean(
            wanted,
            targets.map((t) => t.key),
          ) ?? `targets: ${targets.map((t) => t.key).join(", ")}`,
        );
        return undefined;
      }
    } else {
      const defaults = targets.filter((t) => scalarValue(child(t.value, "default")) === true);
      for (const extra of defaults.slice(1))
        this.error(
          `more than one default target (${defaults.map((d) => d.key).join(", ")})`,
          extra.keyLoc,
          `targets.${extra.key}.default`,
        );
      chosen = defaults[0] ?? (targets.length === 1 ? targets[0] : undefined);
      if (!chosen) {
        this.error(
          "no default target",
          entry(this.root, "targets")?.keyLoc,
          "targets",
          "mark one target default: true, or pass --target",
        );
        return undefined;
      }
    }
    for (const t of targets) {
      const local = scalarValue(child(t.value, "local")) === true;
      const url = child(t.value, "url");
      if (local && url)
        this.error(
          `targets.${t.key} sets both local: true and url`,
          t.keyLoc,
          `targets.${t.key}`,
          "a target is either the local platform or a workspace",
        );
      if (!local && !url) this.error(`targets.${t.key} needs url: or local: true`, t.keyLoc, `targets.${t.key}`);
    }
    const local = scalarValue(child(chosen.value, "local")) === true;
    return local ? { name: chosen.key, local: true } : { name: chosen.key, local: false };
  }

  /** Only the chosen target's URL is interpolated (after variables), so other targets' `${env:…}` need not be set. */
  private resolveTargetUrl(target: TargetSpec): TargetSpec {
    if (target.local) return target;
    const urlNode = child(child(child(this.root, "targets"), target.name), "url");
    const url = this.text(urlNode, `targets.${target.name}.url`);
    if (url !== undefined && !isHttpUrl(url))
      this.error(
        `targets.${target.name}.url must be an http(s) URL, got ${JSON.stringify(url)}`,
        urlNode?.loc,
        `targets.${target.name}.url`,
      );
    return { name: target.name, local: false, ...(url !== undefined ? { url } : {}) };
  }

  /** A declared variable that nothing refers to is usually a typo on one side or the other. */
  private warnUnusedVariables(): void {
    const used = new Set<string>();
    const scan = (node: TreeNode) => {
      if (node.kind === "map") for (const e of node.entries) scan(e.value);
      else if (node.kind === "seq") for (const item of node.items) scan(item);
      else if (typeof node.value === "string" && node.value.includes("${")) {
        const parsed = parseTemplate(node.value);
        if (parsed.ok)
          for (const part of parsed.parts) if ("ref" in part && part.ref.kind === "var") used.add(part.ref.name);
      }
    };
    for (const e of this.root.entries) if (e.key !== "variables") scan(e.value);
    for (const d of mapEntries(child(this.root, "variables")))
      if (!used.has(d.key))
        this.error(
          `variable "${d.key}" is never used`,
          d.keyLoc,
          `variables.${d.key}`,
          `use it as \${var.${d.key}} or remove it`,
          "warning",
        );
  }

  private resolveVariables(targetName: string | undefined): void {
    const declared = mapEntries(child(this.root, "variables"));
    const names = declared.map((d) => d.key);
    for (const d of declared) {
      const def = scalarValue(child(d.value, "default"));
      this.vars.set(d.key, { ...(def !== undefined && def !== null ? { value: String(def) } : {}), loc: d.keyLoc });
    }
    for (const t of mapEntries(child(this.root, "targets"))) {
      for (const v of mapEntries(child(t.value, "variables"))) {
        const known = this.vars.get(v.key);
        if (!known) {
          this.error(
            `unknown variable "${v.key}" in targets.${t.key}.variables`,
            v.keyLoc,
            `targets.${t.key}.variables.${v.key}`,
            didYouMean(v.key, names) ?? "declare it under variables:",
          );
          continue;
        }
        const value = scalarValue(v.value);
        if (t.key === targetName && value !== undefined && value !== null) known.value = String(value);
      }
    }
    for (const [key, value] of Object.entries(this.opts.vars ?? {})) {
      const known = this.vars.get(key);
      if (!known) {
        this.error(
          `unknown variable "${key}" given with --var`,
          undefined,
          `--var ${key}`,
          didYouMean(key, names) ??
            (names.length ? `variables: ${names.join(", ")}` : "the manifest declares no variables"),
        );
        continue;
      }
      known.value = value;
    }
    for (const [name, known] of this.vars) {
      const fromEnv = this.opts.env[`CML_LAB_VAR_${name}`];
      if (fromEnv !== undefined) known.value = fromEnv;
    }
  }

  private resolveProject(): ProjectSpec {
    const projectEntry = entry(this.root, "project");
    const n = projectEntry?.value;
    this.currentResource = "project";
    const visibility = scalarValue(child(n, "visibility"));
    return {
      location: projectEntry?.keyLoc ?? this.root.loc,
      preventDestroy: this.bool(child(n, "prevent_destroy"), "project.prevent_destroy") ?? false,
      name: this.text(child(n, "name"), "project.name") ?? "",
      description: this.text(child(n, "description"), "project.description") ?? "",
      visibility: visibility === "public" || visibility === "organization" ? visibility : "private",
      env: this.env(child(n, "env"), "project.env"),
    };
  }

  private resolveFiles(): FileSyncSpec[] {
    const list = child(this.root, "files");
    if (list?.kind !== "seq") return [];
    return list.items.map((item, i) => {
      const at = `files[${i}]`;
      const fromNode = child(item, "from");
      const from = this.text(fromNode, `${at}.from`) ?? "";
      const toNode = child(item, "to");
      const to = this.projectPath(this.text(toNode, `${at}.to`) ?? "", toNode, `${at}.to`, true);
      return {
        from: path.resolve(this.dirOf(item.loc), from),
        to,
        exclude: this.stringList(child(item, "exclude"), `${at}.exclude`),
        location: item.loc,
      };
    });
  }

  /** A project-relative path: no leading `./`, not absolute, no `..`. */
  private projectPath(p: string, node: TreeNode | undefined, at: string, allowTrailingSlash = false): string {
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

  private stringList(node: TreeNode | undefined, at: string): string[] {
    if (node?.kind !== "seq") return [];
    return node.items.map((item, i) => this.text(item, `${at}[${i}]`) ?? "");
  }

  /** A text field; numbers and booleans written where text is expected are taken as their text. */
  text(node: TreeNode | undefined, at: string): string | undefined {
    if (node?.kind !== "scalar" || node.value === null) return undefined;
    if (typeof node.value !== "string") return String(node.value);
    const value = this.interpolate(node.value, node.loc, at, "text");
    return typeof value === "string" ? value : undefined;
  }

  number(node: TreeNode | undefined, at: string, integer = false): number | undefined {
    if (node?.kind !== "scalar" || node.value === null) return undefined;
    if (typeof node.value === "number") return node.value;
    const text = this.text(node, at);
    if (text === undefined) return undefined;
    const n = text.trim() === "" ? Number.NaN : Number(text);
    if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
      this.error(
        `${at} must be ${integer ? "a whole number" : "a number"} >= 0, but ${String(node.value)} is ${JSON.stringify(text)}`,
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
      if (raw !== "" && !raw.includes("${") && SECRET_LIKE.test(e.key))
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
  private interpolate(raw: string, loc: DiagnosticLocation, at: string, mode: Mode): EnvValue | undefined {
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
        if (ref.kind === "secret") return this.secret(ref.name, loc, at);
        return this.resourceRef(ref, loc, at);
      }
      const value = this.lookup(ref, loc, at);
      if (value === undefined) failed = true;
      else out += value;
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

  private secret(name: string, loc: DiagnosticLocation, at: string): EnvValue | undefined {
    const direct = this.opts.env[name];
    if (direct !== undefined) return { kind: "secret", name, value: direct };
    const file = this.opts.env[`${name}_FILE`];
    if (file !== undefined) {
      try {
        return { kind: "secret", name, value: readFileSync(file, "utf8").replace(/\r?\n$/, "") };
      } catch {
        this.error(`${at}: cannot read the file named by ${name}_FILE`, loc, at);
        return undefined;
      }
    }
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

  private addReference(from: ResourceKey, ref: { to: ResourceKey; loc: DiagnosticLocation; path: string }): void {
    const list = this.references.get(from) ?? [];
    list.push(ref);
    this.references.set(from, list);
  }

  /** defaults.env under a resource's own env; references in the defaults it keeps become its references. */
  private withDefaults(defaults: EnvMap, own: EnvMap): EnvMap {
    const resource = this.currentResource;
    if (resource !== "defaults" && resource !== "project")
      for (const r of this.defaultRefs) if (!(r.envKey in own)) this.addReference(resource, r);
    return { ...defaults, ...own };
  }
}

function mapEntries(node: TreeNode | undefined) {
  return node?.kind === "map" ? node.entries : [];
}

function scalarValue(node: TreeNode | undefined): string | number | boolean | null | undefined {
  return node?.kind === "scalar" ? node.value : undefined;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

function listing(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}
