// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the manifest syntax itself is ${…}, written in plain strings.
/**
 * From a merged, structurally valid tree to the ResolvedManifest the engine consumes: choose the target, give
 * variables their values, read every field (values.ts interpolates and converts) and apply defaults. Every
 * problem becomes a located diagnostic; nothing throws for a user mistake.
 */
import path from "node:path";
import type { DiagnosticLocation } from "./diagnostic.js";
import { parseTemplate } from "./interpolate.js";
import type {
  ApplicationSpec,
  ComputeResources,
  FileSyncSpec,
  JobSpec,
  ModelSpec,
  ProjectSpec,
  ResourceKey,
  RuntimeChoice,
  SkippedResource,
  TargetSpec,
} from "./model.js";
import { didYouMean } from "./suggest.js";
import { type ResolveOptions, ValueReader } from "./values.js";
import { child, entry, type MapNode, mapEntries, scalarValue, type TreeNode } from "./yaml-tree.js";

export type { ResolveOptions } from "./values.js";

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
  /** Resources switched off by `enabled` / `requires`. */
  skipped?: SkippedResource[];
  /** Resource → resources it references through `${resources…}` (the engine orders by these too). */
  references: Map<ResourceKey, { to: ResourceKey; loc: DiagnosticLocation; path: string }[]>;
}

const DEFAULT_COMPUTE: ComputeResources = { cpu: 1, memory: 2, gpu: 0 };

export class Resolver extends ValueReader {
  private skipped = new Map<ResourceKey, SkippedResource>();

  protected override skippedReason(resource: ResourceKey): string | undefined {
    return this.skipped.get(resource)?.reason;
  }
  constructor(
    private readonly root: MapNode,
    sources: Map<string, readonly string[]>,
    private readonly dirOf: (loc: DiagnosticLocation) => string,
    opts: ResolveOptions,
  ) {
    super(sources, opts);
  }

  resolve(): Resolved | undefined {
    for (const section of ["jobs", "applications", "models"] as const)
      for (const e of mapEntries(child(this.root, section))) this.knownResources.add(`${section}.${e.key}`);
    this.knownResources.add("project");

    const chosenTarget = this.resolveTarget();
    this.resolveVariables(chosenTarget?.name);
    const target = chosenTarget && this.resolveTargetUrl(chosenTarget);
    this.resolveSwitches();
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
      if (this.skipped.has(`jobs.${e.key}`)) continue;
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
      if (this.skipped.has(`applications.${e.key}`)) continue;
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
        ...this.afterJob(n, at),
      };
    }

    const models: Record<string, ModelSpec> = {};
    for (const e of mapEntries(child(this.root, "models"))) {
      const at = `models.${e.key}`;
      if (this.skipped.has(`models.${e.key}`)) continue;
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
        ...this.afterJob(n, at),
      };
    }

    this.warnUnusedVariables();
    if (!target) return undefined;
    const skipped = [...this.skipped.values()];
    return {
      name,
      target,
      project,
      existingPaths,
      files,
      jobs,
      applications,
      models,
      ...(skipped.length > 0 ? { skipped } : {}),
      references: this.references,
    };
  }

  /**
   * `enabled` and `requires`, read before any resource body so that a skipped resource's secrets are never asked
   * for and references to it can name the reason. A job, application or model that runs after a skipped job is
   * skipped with it. An empty value counts as unset: CI systems expand a secret the repository does not have to ""
   * (GitHub Actions' `${{ secrets.X }}`), and no credential is empty.
   */
  private resolveSwitches(): void {
    for (const section of ["jobs", "applications", "models"] as const)
      for (const e of mapEntries(child(this.root, section))) {
        const key: ResourceKey = `${section}.${e.key}`;
        const naming = section === "applications" ? "subdomain" : "name";
        const name = this.quietText(child(e.value, naming), `${key}.${naming}`) ?? e.key;
        const enabledNode = child(e.value, "enabled");
        if (this.bool(enabledNode, `${key}.enabled`) === false) {
          const raw = scalarValue(enabledNode);
          const how = typeof raw === "string" && raw.includes("${") ? `enabled: ${raw} is false` : "enabled: false";
          this.skipped.set(key, { key, name, reason: how, location: e.keyLoc, keepLive: false });
          continue;
        }
        const missing = this.stringList(child(e.value, "requires"), `${key}.requires`).filter(
          (name) => name && !this.opts.env[name] && !this.opts.env[`${name}_FILE`],
        );
        if (missing.length > 0)
          this.skipped.set(key, {
            key,
            name,
            reason: `${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} not set`,
            location: e.keyLoc,
            keepLive: true,
          });
      }
    for (let changed = true; changed; ) {
      changed = false;
      for (const [section, e] of (["jobs", "applications", "models"] as const).flatMap((s) =>
        mapEntries(child(this.root, s)).map((entry) => [s, entry] as const),
      )) {
        const key: ResourceKey = `${section}.${e.key}`;
        const after = scalarValue(child(e.value, "after"));
        const parent = typeof after === "string" ? this.skipped.get(`jobs.${after}`) : undefined;
        if (this.skipped.has(key) || !parent) continue;
        const naming = section === "applications" ? "subdomain" : "name";
        this.skipped.set(key, {
          key,
          name: this.quietText(child(e.value, naming), `${key}.${naming}`) ?? e.key,
          reason: `it runs after ${parent.key}, which is skipped (${parent.reason})`,
          location: e.keyLoc,
          keepLive: parent.keepLive,
        });
        changed = true;
      }
    }
  }

  /** `after:` of an application or model: the job apply runs (when needed) before starting or building it. */
  private afterJob(n: TreeNode | undefined, at: string): { after?: string } {
    const after = this.text(child(n, "after"), `${at}.after`);
    return after !== undefined ? { after } : {};
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
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}
