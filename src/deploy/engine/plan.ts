/**
 * plan(desired, live) → Plan: pure (house style P3). Matches live objects to the manifest by natural key
 * (project name, job name, application subdomain, model name) and the ownership marker, diffs normalised
 * fields under each kind's rules, and lists marked objects that left the manifest as deletes (prune).
 */
import { createHash, createHmac } from "node:crypto";
import type { ResourceKey } from "../manifest/model.js";
import {
  applicationDesiredFields,
  applicationLiveFields,
  applicationOutputs,
  applicationRules,
} from "../resources/application.js";
import { envRefs, ownerOf } from "../resources/env.js";
import { filesDesiredFields, filesLiveFields, filesRules } from "../resources/files.js";
import { jobDesiredFields, jobLiveFields, jobRules } from "../resources/job.js";
import {
  buildDesiredFields,
  buildLiveFields,
  buildRules,
  deploymentDesiredFields,
  deploymentLiveFields,
  deploymentRules,
  modelDesiredFields,
  modelLiveFields,
  modelOwner,
  modelRules,
} from "../resources/model.js";
import { projectDesiredFields, projectLiveFields, projectRules } from "../resources/project.js";
import type { Application, FieldMap, FieldRules, Job, NormaliseContext } from "../resources/types.js";
import type { DesiredState } from "./desired.js";
import { diffFields } from "./diff.js";
import { topoOrder } from "./graph.js";
import type { LiveModel, LiveState } from "./live.js";
import type { FieldChange, Plan, PlanEntry, PlanTarget } from "./types.js";

export interface PlanOptions {
  target: PlanTarget;
  /** Manage objects that have our natural key but no marker (they get the marker on apply). */
  adopt?: boolean;
  /**
   * Key of the secret fingerprints (hex). Plans saved with `--out` are files people pass around: an unkeyed hash
   * of a secret lets anyone confirm a guessed value offline. The session draws a random salt per plan and stores
   * it in the plan; `apply --plan` plans again with the saved salt, so an unchanged secret gives the same
   * fingerprint and a changed one does not. Absent: an empty key (tests that compare plans computed apart).
   */
  salt?: string;
}

interface Matches {
  jobs: Map<string, Job>;
  applications: Map<string, Application>;
  models: Map<string, LiveModel>;
}

/** HMAC-SHA256 keyed by the plan's salt; the `hmac-sha256:` prefix tells it from the unkeyed hashes of old plans. */
export function secretHasher(stack: string, salt = ""): (key: string, value: string) => string {
  return (key, value) =>
    `hmac-sha256:${createHmac("sha256", Buffer.from(salt, "hex")).update(`cml-lab|${stack}|${key}|${value}`).digest("hex").slice(0, 16)}`;
}

export function plan(desired: DesiredState, live: LiveState, options: PlanOptions): Plan {
  const manifest = desired.manifest;
  const stack = manifest.name;
  const conflicts: string[] = [];
  const entries: PlanEntry[] = [];
  const liveDigest: Record<string, FieldMap> = {};
  const project = live.projects.length === 1 ? live.projects[0] : undefined;
  if (live.projects.length > 1) {
    conflicts.push(
      `${live.projects.length} projects are named "${manifest.project.name}" (ids ${live.projects.map((p) => p.id).join(", ")}); rename or delete all but one`,
    );
  }
  const matches = matchChildren(desired, live);
  const ctx: NormaliseContext = {
    stack,
    desired,
    live,
    secretHash: secretHasher(stack, options.salt),
    output: (key, field) => liveOutput(key, field, project?.id, matches, live.appUrls),
  };
  const ownership = (key: ResourceKey, owner: string | undefined): boolean => {
    if (owner === stack) return true;
    if (owner === undefined) {
      if (options.adopt) return true;
      conflicts.push(
        `${key} exists in the workspace but was not created by stack "${stack}"; run again with --adopt to manage it, or rename it in the manifest`,
      );
      return false;
    }
    conflicts.push(`${key} belongs to stack "${owner}"; it is never touched by "${stack}" (rename it in the manifest)`);
    return false;
  };
  const add = (
    key: ResourceKey,
    dependsOn: ResourceKey[],
    want: FieldMap,
    have: FieldMap | undefined,
    rules: FieldRules,
    extra: { id?: string; preventDestroy?: boolean; alwaysListChanges?: boolean } = {},
  ) => {
    const entry = entryFrom(key, dependsOn, want, have, rules, extra);
    if (have) liveDigest[key] = have;
    entries.push(entry);
    return entry;
  };

  // Project
  const projectOk = project ? ownership("project", ownerOf(project.environment)) : true;
  if (projectOk) {
    add("project", [], projectDesiredFields(ctx), project ? projectLiveFields(project, ctx) : undefined, projectRules, {
      id: project?.id,
      preventDestroy: manifest.project.preventDestroy,
    });
  }

  // Files
  const filesFor = (path: string): ResourceKey[] =>
    [...desired.files.entries()].filter(([, set]) => set.files.has(path)).map(([to]): ResourceKey => `files.${to}`);
  for (const to of desired.files.keys()) {
    const recorded = live.fileRecord?.sets[to];
    add(
      `files.${to}`,
      ["project"],
      filesDesiredFields(to, ctx),
      recorded ? filesLiveFields(to, ctx) : undefined,
      filesRules,
      {
        id: recorded ? to : undefined,
        alwaysListChanges: true,
      },
    );
  }

  // Jobs
  for (const [key, spec] of Object.entries(manifest.jobs)) {
    const liveJob = matches.jobs.get(key);
    if (liveJob && !ownership(`jobs.${key}`, ownerOf(liveJob.environment))) continue;
    const deps: ResourceKey[] = ["project", ...filesFor(spec.script), ...refKeys(envRefs(spec.env))];
    if (spec.after) deps.push(`jobs.${spec.after}`);
    add(
      `jobs.${key}`,
      deps,
      jobDesiredFields(spec, ctx),
      liveJob ? jobLiveFields(liveJob, spec, ctx) : undefined,
      jobRules,
      {
        id: liveJob?.id,
        preventDestroy: spec.preventDestroy,
      },
    );
  }

  // A recreated job gets a new id: the jobs that run after it must be re-pointed in the same apply.
  for (const [key, spec] of Object.entries(manifest.jobs)) {
    const child = entries.find((e) => e.key === `jobs.${key}`);
    const parent = spec.after ? entries.find((e) => e.key === `jobs.${spec.after}`) : undefined;
    if (!child || parent?.action !== "recreate" || (child.action !== "skip" && child.action !== "update")) continue;
    if (child.changes.some((c) => c.path === "after")) continue;
    child.action = "update";
    child.changes.push({
      path: "after",
      action: "update",
      reason: `${parent.key} is recreated`,
      old: parent.key,
      new: { knownAfterApply: `${parent.key}.id` },
    });
  }

  // Applications
  for (const [key, spec] of Object.entries(manifest.applications)) {
    const app = matches.applications.get(key);
    if (app && !ownership(`applications.${key}`, ownerOf(app.environment))) continue;
    const deps: ResourceKey[] = ["project", ...filesFor(spec.script), ...refKeys(envRefs(spec.env))];
    add(
      `applications.${key}`,
      deps,
      applicationDesiredFields(spec, ctx),
      app ? applicationLiveFields(app, spec, ctx) : undefined,
      applicationRules,
      { id: app?.id, preventDestroy: spec.preventDestroy },
    );
  }

  // Models → build → deployment
  for (const [key, spec] of Object.entries(manifest.models)) {
    const lm = matches.models.get(key);
    if (lm && !ownership(`models.${key}`, modelOwner(lm.model))) continue;
    const modelEntry = add(
      `models.${key}`,
      ["project"],
      modelDesiredFields(spec, ctx),
      lm ? modelLiveFields(lm) : undefined,
      modelRules,
      {
        id: lm?.model.id,
        preventDestroy: spec.preventDestroy,
      },
    );
    const fresh = modelEntry.action === "create" || modelEntry.action === "recreate";
    const latest = fresh ? undefined : lm?.builds[0];
    const buildEntry = add(
      `models.${key}.build`,
      [`models.${key}`, ...filesFor(spec.file)],
      buildDesiredFields(key, spec, ctx),
      latest ? buildLiveFields(latest, spec, ctx) : undefined,
      buildRules,
      { id: latest?.id },
    );
    const deployment = latest ? lm?.deployments[0] : undefined;
    add(
      `models.${key}.deployment`,
      [`models.${key}.build`, ...refKeys(envRefs(spec.deployment.env))],
      deploymentDesiredFields(spec, buildEntry.action === "skip" ? latest?.id : undefined, ctx),
      deployment ? deploymentLiveFields(deployment, spec, ctx) : undefined,
      deploymentRules,
      { id: deployment?.id },
    );
  }

  // Prune: objects carrying our marker that left the manifest.
  if (project && projectOk) entries.push(...pruneEntries(desired, live, matches, stack, keptLive(manifest)));

  const ordered = safeOrder(entries, conflicts);
  const fingerprint = createHash("sha256")
    .update(JSON.stringify({ entries: ordered, conflicts, liveDigest }))
    .digest("hex")
    .slice(0, 32);
  return {
    version: 1,
    stack,
    target: options.target,
    project: manifest.project.name,
    entries: ordered,
    conflicts,
    ...(manifest.skipped?.length ? { skipped: manifest.skipped.map((s) => ({ key: s.key, reason: s.reason })) } : {}),
    fingerprint,
    ...(options.salt ? { salt: options.salt } : {}),
  };
}

function entryFrom(
  key: ResourceKey,
  dependsOn: ResourceKey[],
  want: FieldMap,
  have: FieldMap | undefined,
  rules: FieldRules,
  extra: { id?: string; preventDestroy?: boolean; alwaysListChanges?: boolean },
): PlanEntry {
  const entry: PlanEntry = { key, action: "skip", dependsOn: [...new Set(dependsOn)], changes: [] };
  if (extra.id) entry.id = extra.id;
  if (extra.preventDestroy) entry.preventDestroy = true;
  if (!have) {
    entry.action = "create";
    if (extra.alwaysListChanges) entry.changes = diffFields(want, {}, rules);
    return entry;
  }
  const changes: FieldChange[] = diffFields(want, have, rules);
  entry.changes = changes;
  const recreate = changes.find((c) => c.action === "recreate");
  if (recreate) {
    entry.action = "recreate";
    entry.reason = recreate.reason;
  } else if (changes.length > 0) entry.action = "update";
  return entry;
}

function refKeys(keys: string[]): ResourceKey[] {
  return keys.filter((k): k is ResourceKey => k === "project" || /^(files|jobs|applications|models)\./.test(k));
}

function matchChildren(desired: DesiredState, live: LiveState): Matches {
  const m = desired.manifest;
  const jobs = new Map<string, Job>();
  for (const [key, spec] of Object.entries(m.jobs)) {
    const found = live.jobs.find((j) => j.name === spec.name);
    if (found) jobs.set(key, found);
  }
  const applications = new Map<string, Application>();
  for (const [key, spec] of Object.entries(m.applications)) {
    // By subdomain; failing that, our application of the same name under its old subdomain (a recreate).
    const found =
      live.applications.find((a) => a.subdomain === spec.subdomain) ??
      live.applications.find(
        (a) =>
          a.name === spec.name &&
          ownerOf(a.environment) === m.name &&
          !Object.values(m.applications).some((s) => s.subdomain === a.subdomain),
      );
    if (found) applications.set(key, found);
  }
  const models = new Map<string, LiveModel>();
  for (const [key, spec] of Object.entries(m.models)) {
    const found = live.models.find((lm) => lm.model.name === spec.name);
    if (found) models.set(key, found);
  }
  return { jobs, applications, models };
}

/**
 * Live copies of resources skipped for a missing `requires` value stay as they are: a credential missing from one
 * shell must not delete a deployed job. (`enabled: false` resources are pruned like any that left the manifest.)
 */
function keptLive(manifest: DesiredState["manifest"]): Set<string> {
  return new Set((manifest.skipped ?? []).filter((s) => s.keepLive).map((s) => `${s.key.split(".")[0]}.${s.name}`));
}

function pruneEntries(
  desired: DesiredState,
  live: LiveState,
  matches: Matches,
  stack: string,
  kept: Set<string>,
): PlanEntry[] {
  const out: PlanEntry[] = [];
  const matchedJobs = new Set([...matches.jobs.values()].map((j) => j.id));
  const matchedApps = new Set([...matches.applications.values()].map((a) => a.id));
  const matchedModels = new Set([...matches.models.values()].map((lm) => lm.model.id));
  const prune = (key: ResourceKey, id: string | undefined) => {
    if (!kept.has(key))
      out.push({ key, action: "delete", id, dependsOn: [], changes: [], reason: "no longer in the manifest" });
  };
  for (const j of live.jobs)
    if (!matchedJobs.has(j.id) && ownerOf(j.environment) === stack) prune(`jobs.${j.name ?? j.id}`, j.id);
  for (const a of live.applications)
    if (!matchedApps.has(a.id) && ownerOf(a.environment) === stack)
      prune(`applications.${a.subdomain ?? a.name ?? a.id}`, a.id);
  for (const lm of live.models)
    if (!matchedModels.has(lm.model.id) && modelOwner(lm.model) === stack)
      prune(`models.${lm.model.name ?? lm.model.id}`, lm.model.id);
  for (const to of Object.keys(live.fileRecord?.sets ?? {}))
    if (!desired.files.has(to))
      out.push({
        key: `files.${to}`,
        action: "delete",
        id: to,
        dependsOn: [],
        changes: [],
        reason: "no longer in the manifest",
      });
  return out;
}

/** Topological order; a cycle becomes a conflict (validate reports it with locations). */
function safeOrder(entries: PlanEntry[], conflicts: string[]): PlanEntry[] {
  try {
    return topoOrder(entries);
  } catch (error) {
    conflicts.push(error instanceof Error ? error.message : String(error));
    return entries;
  }
}

/** Outputs of live objects, for `${resources.…}` references resolved at plan time. */
function liveOutput(
  key: ResourceKey,
  field: string,
  projectId: string | undefined,
  matches: Matches,
  appUrls: LiveState["appUrls"],
): string | undefined {
  if (key === "project") return field === "id" ? projectId : undefined;
  const [kind, name = ""] = key.split(".");
  if (kind === "jobs") {
    const j = matches.jobs.get(name);
    return j && field === "id" ? j.id : j && field === "name" ? j.name : undefined;
  }
  if (kind === "applications") {
    const a = matches.applications.get(name);
    return a ? applicationOutputs(a, appUrls?.[a.id ?? ""])[field] : undefined;
  }
  if (kind === "models") {
    const lm = matches.models.get(name);
    if (!lm) return undefined;
    const outputs: Record<string, string | undefined> = {
      id: lm.model.id,
      access_key: lm.model.access_key,
      crn: lm.model.crn,
      name: lm.model.name,
    };
    return outputs[field] || undefined;
  }
  return undefined;
}

/**
 * The destroy plan: every object carrying this stack's marker, as deletes (children before the project, which
 * apply enforces), except what the manifest marks `prevent_destroy` (and then the project that holds it).
 */
export function planDestroy(desired: DesiredState, live: LiveState, options: PlanOptions): Plan {
  const m = desired.manifest;
  const stack = m.name;
  const project = live.projects.length === 1 ? live.projects[0] : undefined;
  const entries: PlanEntry[] = [];
  const conflicts: string[] = [];
  if (live.projects.length > 1)
    conflicts.push(`${live.projects.length} projects are named "${m.project.name}"; rename or delete all but one`);
  if (project) {
    // One name per object: a live object the manifest declares goes by its manifest key, as apply calls it
    // (`applications.chat`, not its subdomain); only objects the manifest no longer has go by their live name.
    const matches = matchChildren(desired, live);
    const keyOf = (kind: "jobs" | "applications" | "models", id: string | undefined, fallback: string) => {
      const found = [...matches[kind].entries()].find(([, o]) => ("model" in o ? o.model.id : o.id) === id);
      return found ? { key: found[0], spec: m[kind][found[0]] } : { key: fallback, spec: undefined };
    };
    const del = (kind: "jobs" | "applications" | "models", id: string | undefined, liveName: string | undefined) => {
      const { key, spec } = keyOf(kind, id, liveName ?? id ?? "");
      const keep = spec?.preventDestroy === true;
      entries.push({
        key: `${kind}.${key}`,
        action: keep ? "skip" : "delete",
        id,
        dependsOn: [],
        changes: [],
        ...(keep ? { reason: "prevent_destroy", preventDestroy: true } : {}),
      });
    };
    for (const j of live.jobs) if (ownerOf(j.environment) === stack) del("jobs", j.id, j.name);
    for (const a of live.applications)
      if (ownerOf(a.environment) === stack) del("applications", a.id, a.subdomain ?? a.name);
    for (const lm of live.models) if (modelOwner(lm.model) === stack) del("models", lm.model.id, lm.model.name);
    const anyKept = entries.some((e) => e.action === "skip");
    // Objects someone made by hand in our project: deleting the project would delete them silently.
    const foreign =
      live.jobs.filter((j) => ownerOf(j.environment) !== stack).length +
      live.applications.filter((a) => ownerOf(a.environment) !== stack).length +
      live.models.filter((lm) => modelOwner(lm.model) !== stack).length;
    const ours = ownerOf(project.environment) === stack;
    const keepProject = m.project.preventDestroy || anyKept || foreign > 0;
    if (ours) {
      entries.push({
        key: "project",
        action: keepProject ? "skip" : "delete",
        id: project.id,
        dependsOn: [],
        changes: [],
        ...(keepProject
          ? {
              reason: m.project.preventDestroy
                ? "prevent_destroy"
                : anyKept
                  ? "holds resources with prevent_destroy"
                  : `holds ${foreign} object(s) this stack did not create; delete them first to delete the project`,
            }
          : {}),
      });
    }
    if (!ours || keepProject)
      for (const to of Object.keys(live.fileRecord?.sets ?? {}))
        entries.push({ key: `files.${to}`, action: "delete", id: to, dependsOn: [], changes: [] });
  }
  const fingerprint = createHash("sha256").update(JSON.stringify({ entries, conflicts })).digest("hex").slice(0, 32);
  return {
    version: 1,
    stack,
    target: options.target,
    project: m.project.name,
    entries,
    conflicts,
    fingerprint,
    ...(options.salt ? { salt: options.salt } : {}),
  };
}

/**
 * `--select jobs.x`: only the selected entries and what they depend on (transitively); everything else is left
 * out of this apply (and out of its counts). Unknown keys are reported by the caller.
 */
export function selectEntries(p: Plan, keys: readonly string[]): { plan: Plan; unknown: string[] } {
  const byKey = new Map(p.entries.map((e) => [e.key as string, e]));
  const unknown = keys.filter((k) => !byKey.has(k));
  const keep = new Set<string>();
  const visit = (key: string) => {
    if (keep.has(key)) return;
    const entry = byKey.get(key);
    if (!entry) return;
    keep.add(key);
    for (const d of entry.dependsOn) visit(d);
  };
  for (const k of keys) visit(k);
  return { plan: { ...p, entries: p.entries.filter((e) => keep.has(e.key)) }, unknown };
}
