// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the manifest syntax itself is ${…}, written in plain strings.
/**
 * Semantic checks on a resolved manifest: what the schema cannot say. Each check names the place in the
 * file (through the merged tree, so resources from included files point into their own file).
 */
import { realpathSync, statSync } from "node:fs";
import path from "node:path";
import type { Diagnostic, DiagnosticLocation } from "./diagnostic.js";
import type { ResourceKey } from "./model.js";
import type { Resolved } from "./resolve.js";
import { didYouMean } from "./suggest.js";
import { locate, type MapNode } from "./yaml-tree.js";

/** What CML accepts as an application subdomain (Cloudera's Ansible collection validates the same) — one DNS label. */
const SUBDOMAIN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX_SUBDOMAIN = 63;
const CRON_FIELD = /^[0-9A-Za-z*?/,#LW-]+$/;

export function checkManifest(
  m: Resolved,
  root: MapNode,
  sources: Map<string, readonly string[]>,
  opts: {
    cwd: string;
    /** False when files: or project is malformed (every script would look unsynced). */
    checkScripts: boolean;
  },
): Diagnostic[] {
  const cwd = opts.cwd;
  const displayPath = (p: string) => {
    const rel = path.relative(cwd, p);
    return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
  };
  const out: Diagnostic[] = [];
  const at = (segments: string[], fallback: DiagnosticLocation): DiagnosticLocation => {
    const found = locate(root, segments);
    return found.complete ? found.node.loc : fallback;
  };
  const report = (
    message: string,
    loc: DiagnosticLocation,
    p: string,
    hint?: string,
    severity: "error" | "warning" = "error",
  ) =>
    out.push({
      severity,
      message,
      location: loc,
      path: p,
      ...(hint ? { hint } : {}),
      source: sources.get(loc.file)?.[loc.line - 1] ?? "",
    });

  // Jobs: after / schedule.
  const jobKeys = Object.keys(m.jobs);
  for (const job of Object.values(m.jobs)) {
    const base = `jobs.${job.key}`;
    if (job.after !== undefined) {
      const loc = at(["jobs", job.key, "after"], job.location);
      if (job.schedule !== undefined)
        report(
          `${base} has both after and schedule`,
          at(["jobs", job.key, "schedule"], job.location),
          `${base}.schedule`,
          "CML runs a dependent job when its parent finishes; it cannot also have a schedule",
        );
      if (!m.jobs[job.after])
        report(
          `${base}.after names an unknown job "${job.after}"`,
          loc,
          `${base}.after`,
          didYouMean(
            job.after,
            jobKeys.filter((k) => k !== job.key),
          ) ?? (jobKeys.length > 1 ? `jobs: ${jobKeys.join(", ")}` : undefined),
        );
    }
    if (job.schedule !== undefined) {
      const fields = job.schedule.trim().split(/\s+/);
      if (fields.length !== 5 || !fields.every((f) => CRON_FIELD.test(f)))
        report(
          `${base}.schedule must be a cron expression with 5 fields (minute hour day month weekday), got ${JSON.stringify(job.schedule)}`,
          at(["jobs", job.key, "schedule"], job.location),
          `${base}.schedule`,
        );
    }
  }

  // Applications and models: the job apply runs before them.
  for (const [section, resources] of [
    ["applications", m.applications],
    ["models", m.models],
  ] as const)
    for (const r of Object.values(resources))
      if (r.after !== undefined && !m.jobs[r.after])
        report(
          `${section}.${r.key}.after names an unknown job "${r.after}"`,
          at([section, r.key, "after"], r.location),
          `${section}.${r.key}.after`,
          didYouMean(r.after, jobKeys) ?? (jobKeys.length > 0 ? `jobs: ${jobKeys.join(", ")}` : undefined),
        );

  // Cycles through after: and ${resources…} references.
  const edges = new Map<ResourceKey, EdgeTarget[]>();
  const addEdge = (from: ResourceKey, to: ResourceKey, via: string, loc: DiagnosticLocation, path: string) => {
    const list = edges.get(from) ?? [];
    list.push({ to, via, loc, path });
    edges.set(from, list);
  };
  for (const job of Object.values(m.jobs))
    if (job.after !== undefined && m.jobs[job.after])
      addEdge(
        `jobs.${job.key}`,
        `jobs.${job.after}`,
        "after",
        at(["jobs", job.key, "after"], job.location),
        `jobs.${job.key}.after`,
      );
  for (const [section, resources] of [
    ["applications", m.applications],
    ["models", m.models],
  ] as const)
    for (const r of Object.values(resources))
      if (r.after !== undefined && m.jobs[r.after])
        addEdge(
          `${section}.${r.key}`,
          `jobs.${r.after}`,
          "after",
          at([section, r.key, "after"], r.location),
          `${section}.${r.key}.after`,
        );
  for (const [from, refs] of m.references)
    for (const r of refs) addEdge(from, r.to, "a ${resources…} reference", r.loc, r.path);
  for (const cycle of findCycles(edges)) {
    const first = cycle[0];
    if (!first) continue;
    const description = cycle.map((e) => `${e.from} → ${e.to} (${e.via})`).join(", ");
    report(
      `dependency cycle: ${[...cycle.map((e) => e.from), first.from].join(" → ")}`,
      first.loc,
      first.path,
      `edges: ${description}`,
    );
  }

  // Identity: job and model names, application subdomains.
  const firstBy = new Map<string, { key: string; loc: DiagnosticLocation }>();
  const unique = (kind: string, field: string, key: string, value: string, loc: DiagnosticLocation) => {
    const id = `${kind}\u0000${value}`;
    const first = firstBy.get(id);
    if (first)
      report(
        `${kind}.${key} has the same ${field} as ${kind}.${first.key} (${JSON.stringify(value)})`,
        loc,
        `${kind}.${key}.${field}`,
        `${field}s identify ${kind} in the project; first at ${first.loc.file}:${first.loc.line}:${first.loc.col}`,
      );
    else firstBy.set(id, { key, loc });
  };
  for (const job of Object.values(m.jobs))
    unique("jobs", "name", job.key, job.name, at(["jobs", job.key, "name"], job.location));
  for (const model of Object.values(m.models))
    unique("models", "name", model.key, model.name, at(["models", model.key, "name"], model.location));
  for (const app of Object.values(m.applications)) {
    const loc = at(["applications", app.key, "subdomain"], app.location);
    const p = `applications.${app.key}.subdomain`;
    if (app.subdomain.length > MAX_SUBDOMAIN)
      report(`${p} is ${app.subdomain.length} characters; CML allows at most ${MAX_SUBDOMAIN}`, loc, p);
    else if (!SUBDOMAIN.test(app.subdomain))
      report(
        `${p} ${JSON.stringify(app.subdomain)} is not a valid subdomain`,
        loc,
        p,
        `lowercase letters, digits and single hyphens inside (e.g. ${JSON.stringify(suggestSubdomain(app.subdomain))})`,
      );
    unique("applications", "subdomain", app.key, app.subdomain, loc);
  }

  // Files: destinations and existence of sources.
  const firstTo = new Map<string, number>();
  for (const [i, f] of m.files.entries()) {
    const to = f.to.replace(/\/+$/, "");
    const first = firstTo.get(to);
    if (first !== undefined)
      report(
        `files[${i}].to ${JSON.stringify(f.to)} is also the destination of files[${first}]`,
        at(["files", String(i), "to"], f.location),
        `files[${i}].to`,
        "each destination is synced from one source; merge the entries or pick another path",
      );
    else firstTo.set(to, i);
    const unsafe = unsafeSource(f.from);
    if (unsafe)
      report(
        `files[${i}].from ${displayPath(f.from)} ${unsafe}`,
        at(["files", String(i), "from"], f.location),
        `files[${i}].from`,
        "sync a directory or a regular file of this project",
      );
    else if (!exists(f.from))
      report(
        `files[${i}].from ${displayPath(f.from)} does not exist (yet)`,
        at(["files", String(i), "from"], f.location),
        `files[${i}].from`,
        "build it before apply, or fix the path",
        "warning",
      );
  }

  // Scripts must be synced by files: or declared present.
  const scripts: { p: string; script: string; loc: DiagnosticLocation }[] = [
    ...Object.values(m.jobs).map((j) => ({
      p: `jobs.${j.key}.script`,
      script: j.script,
      loc: at(["jobs", j.key, "script"], j.location),
    })),
    ...Object.values(m.applications).map((a) => ({
      p: `applications.${a.key}.script`,
      script: a.script,
      loc: at(["applications", a.key, "script"], a.location),
    })),
    ...Object.values(m.models).map((x) => ({
      p: `models.${x.key}.file`,
      script: x.file,
      loc: at(["models", x.key, "file"], x.location),
    })),
  ];
  for (const s of opts.checkScripts ? scripts : []) {
    // Empty or malformed paths were reported when they were read.
    if (!s.script || s.script.startsWith("/") || s.script.split("/").includes("..")) continue;
    const problem = scriptProblem(s.script, m, displayPath);
    if (problem) report(`${s.p} ${JSON.stringify(s.script)} ${problem.message}`, s.loc, s.p, problem.hint);
  }
  return out;
}

function scriptProblem(
  script: string,
  m: Resolved,
  displayPath: (p: string) => string,
): { message: string; hint?: string } | undefined {
  for (const existing of m.existingPaths) {
    const dir = existing.replace(/\/+$/, "");
    if (script === dir || script.startsWith(`${dir}/`)) return undefined;
  }
  for (const f of m.files) {
    const to = f.to.replace(/\/+$/, "");
    if (script === to) return undefined;
    // A source that is not built yet may become a file or a directory; files[].from already warns.
    if (!exists(f.from) && (script.startsWith(`${to}/`) || to === "")) return undefined;
    const isDir = isDirectory(f.from) || f.to.endsWith("/");
    if (isDir && (script.startsWith(`${to}/`) || to === "")) {
      const local = path.join(f.from, script.slice(to === "" ? 0 : to.length + 1));
      if (exists(local)) return undefined;
      return {
        message: `is not in ${displayPath(f.from)} (synced to ${to || "the project root"})`,
        hint: `expected ${displayPath(local)}`,
      };
    }
  }
  return {
    message: "is neither synced by files: nor listed in project.existing_paths",
    hint: "add a files: entry whose `to` contains it, or list it under project.existing_paths if it is already in the project",
  };
}

interface EdgeTarget {
  to: ResourceKey;
  via: string;
  loc: DiagnosticLocation;
  /** Manifest path of what makes the edge (`jobs.a.after`, `applications.chat.env.ID`). */
  path: string;
}
interface Edge extends EdgeTarget {
  from: ResourceKey;
}

/** Each elementary cycle once (found by DFS, reported from its smallest key so the output is stable). */
function findCycles(edges: Map<ResourceKey, EdgeTarget[]>): Edge[][] {
  const cycles: Edge[][] = [];
  const seen = new Set<string>();
  const state = new Map<ResourceKey, "active" | "done">();
  const stack: Edge[] = [];
  const visit = (node: ResourceKey) => {
    state.set(node, "active");
    for (const e of edges.get(node) ?? []) {
      const edge: Edge = { from: node, ...e };
      if (state.get(e.to) === "active") {
        const start = stack.findIndex((s) => s.from === e.to);
        const cycle = [...(start >= 0 ? stack.slice(start) : []), edge];
        const smallest = cycle.reduce((best, c, i) => (c.from < (cycle[best]?.from ?? "") ? i : best), 0);
        const rotated = [...cycle.slice(smallest), ...cycle.slice(0, smallest)];
        const id = rotated.map((c) => c.from).join(" ");
        if (!seen.has(id)) {
          seen.add(id);
          cycles.push(rotated);
        }
      } else if (!state.has(e.to)) {
        stack.push(edge);
        visit(e.to);
        stack.pop();
      }
    }
    state.set(node, "done");
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

function suggestSubdomain(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, MAX_SUBDOMAIN) || "my-app"
  );
}

/**
 * Trees that hold the machine's devices and the processes' memory and environment: syncing from them would read
 * without end (/dev/zero) or upload secrets (/proc/self/environ), so no `files[].from` may point into them.
 */
const SYSTEM_TREES = ["/proc", "/sys", "/dev"];

/** Why a sync source must not be read, or undefined when it may (or does not exist yet). */
function unsafeSource(p: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(p);
  } catch {
    return undefined;
  }
  if (real === path.parse(real).root) return "is the root of the file system";
  const tree = SYSTEM_TREES.find((t) => real === t || real.startsWith(`${t}/`));
  if (tree) return `is in ${tree}, which holds the system's devices and processes, not project files`;
  const stat = statSync(real, { throwIfNoEntry: false });
  if (stat && !stat.isFile() && !stat.isDirectory()) return "is neither a regular file nor a directory";
  return undefined;
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
