/**
 * plan(desired, live) → Plan: pure (house style P3). Each kind in the registry matches its manifest resources to
 * live objects (natural key) and gives two normalised field views; the engine decides ownership (the marker),
 * diffs under the kind's rules, and lists marked objects that left the manifest as deletes (prune).
 */
import { createHash, createHmac } from "node:crypto";
import type { ResourceKey } from "../manifest/model.js";
import type { DesiredState } from "./desired.js";
import { diffFields } from "./diff.js";
import { topoOrder } from "./graph.js";
import {
  adapterFor,
  containerOf,
  type Draft,
  type FieldMap,
  type FieldRules,
  type KindAdapter,
  type KindRegistry,
  type LiveObject,
  type LiveState,
  type PlanContext,
} from "./kind.js";
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
  /** The kinds to plan (the package's registry: src/deploy/resources/index.ts). */
  kinds: KindRegistry;
}

/** HMAC-SHA256 keyed by the plan's salt; the `hmac-sha256:` prefix tells it from the unkeyed hashes of old plans. */
export function secretHasher(stack: string, salt = ""): (key: string, value: string) => string {
  return (key, value) =>
    `hmac-sha256:${createHmac("sha256", Buffer.from(salt, "hex")).update(`cml-lab|${stack}|${key}|${value}`).digest("hex").slice(0, 16)}`;
}

function planContext(
  desired: DesiredState,
  live: LiveState,
  kinds: KindRegistry,
  entries: PlanEntry[],
  salt?: string,
): PlanContext {
  const byKey = new Map<string, PlanEntry>();
  return {
    stack: desired.manifest.name,
    desired,
    live,
    secretHash: secretHasher(desired.manifest.name, salt),
    output: (key, field) => {
      const out = adapterOrUndefined(kinds, key)?.outputs(key, { desired, live });
      return out?.[field] || undefined;
    },
    planned: (key) => {
      if (byKey.size !== entries.length) for (const e of entries) byKey.set(e.key, e);
      return byKey.get(key);
    },
  };
}

function adapterOrUndefined(kinds: KindRegistry, key: ResourceKey): KindAdapter | undefined {
  return Object.values(kinds).find((k) => k.owns(key));
}

export function plan(desired: DesiredState, live: LiveState, options: PlanOptions): Plan {
  const { kinds } = options;
  const manifest = desired.manifest;
  const stack = manifest.name;
  const conflicts: string[] = [];
  const entries: PlanEntry[] = [];
  const liveDigest: Record<string, FieldMap> = {};
  const ctx = planContext(desired, live, kinds, entries, options.salt);
  const container = containerOf(kinds);
  const { found: project, conflict } = container.container.one(ctx, false);
  if (conflict) conflicts.push(conflict);
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

  // Every kind's manifest resources, matched; the ids matched per kind are what prune leaves alone. A kind may
  // plan entries of another (a model plans its build and deployment): each is diffed under its own kind's rules.
  const matched = new Map<KindAdapter, Set<string>>(Object.values(kinds).map((k) => [k, new Set<string>()]));
  for (const adapter of Object.values(kinds)) {
    for (const draft of adapter.plan(ctx)) {
      const kind = adapterFor(kinds, draft.key);
      if (draft.id) matched.get(kind)?.add(draft.id);
      if (draft.have && draft.owner && !ownership(draft.key, draft.owner.stack)) continue;
      if (draft.have) liveDigest[draft.key] = draft.have;
      entries.push(entryFrom(draft, kind.rules));
    }
    adapter.finish?.(ctx);
  }

  // Prune: objects carrying our marker that left the manifest (only inside a project that is ours).
  if (project && ctx.planned(project.key)) {
    const kept = keptLive(manifest);
    for (const adapter of pruneOrder(kinds)) {
      const ids = matched.get(adapter) ?? new Set<string>();
      for (const obj of inDeclarationOrder(manifest, adapter.existing?.(ctx)))
        if (obj.owner === stack && !(obj.id && ids.has(obj.id)) && !kept.has(obj.key))
          entries.push({
            key: obj.key,
            action: "delete",
            id: obj.id,
            dependsOn: [],
            changes: [],
            reason: "no longer in the manifest",
          });
    }
  }

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

function entryFrom(draft: Draft, rules: FieldRules): PlanEntry {
  const { key, want, have } = draft;
  const entry: PlanEntry = { key, action: "skip", dependsOn: [...new Set(draft.dependsOn)], changes: [] };
  if (draft.id) entry.id = draft.id;
  if (draft.preventDestroy) entry.preventDestroy = true;
  if (!have) {
    entry.action = "create";
    if (draft.alwaysListChanges) entry.changes = diffFields(want, {}, rules);
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

/** Kinds whose objects are API objects first, then those kept in the container's own record. */
function pruneOrder(kinds: KindRegistry): KindAdapter[] {
  const all = Object.values(kinds).filter((k) => !k.container);
  return [...all.filter((k) => !k.insideContainer), ...all.filter((k) => k.insideContainer)];
}

/**
 * Live copies of resources skipped for a missing `requires` value stay as they are: a credential missing from one
 * shell must not delete a deployed job. (`enabled: false` resources are pruned like any that left the manifest.)
 */
function keptLive(manifest: DesiredState["manifest"]): Set<string> {
  return new Set((manifest.skipped ?? []).filter((s) => s.keepLive).map((s) => `${s.key.split(".")[0]}.${s.name}`));
}

/**
 * Live objects in the order the manifest declares them, then the rest by key. A listing comes back in creation
 * order, and parallel creates finish in any order: without this, destroy's confirmation and prune lists would
 * change from run to run for the same stack.
 */
function inDeclarationOrder(manifest: DesiredState["manifest"], objects: readonly LiveObject[] = []): LiveObject[] {
  const declared = [
    ...Object.keys(manifest.jobs).map((n) => `jobs.${n}`),
    ...Object.keys(manifest.applications).map((n) => `applications.${n}`),
    ...Object.keys(manifest.models).map((n) => `models.${n}`),
  ];
  const rank = (key: string) => {
    const i = declared.indexOf(key);
    return i < 0 ? declared.length : i;
  };
  return [...objects].sort((a, b) => rank(a.key) - rank(b.key) || a.key.localeCompare(b.key));
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

/**
 * The destroy plan: every object carrying this stack's marker, as deletes (children before the project, which
 * apply enforces), except what the manifest marks `prevent_destroy` (and then the project that holds it).
 */
export function planDestroy(desired: DesiredState, live: LiveState, options: PlanOptions): Plan {
  const { kinds } = options;
  const m = desired.manifest;
  const stack = m.name;
  const entries: PlanEntry[] = [];
  const conflicts: string[] = [];
  const ctx = planContext(desired, live, kinds, entries, options.salt);
  const container = containerOf(kinds);
  const { found: project, conflict } = container.container.one(ctx, true);
  if (conflict) conflicts.push(conflict);
  if (project) {
    const del = (obj: LiveObject, keep: boolean) =>
      entries.push({
        key: obj.key,
        action: keep ? "skip" : "delete",
        id: obj.id,
        dependsOn: [],
        changes: [],
        ...(keep ? { reason: "prevent_destroy", preventDestroy: true } : {}),
      });
    const objects = pruneOrder(kinds).filter((k) => !k.insideContainer);
    let foreign = 0;
    for (const adapter of objects)
      for (const obj of inDeclarationOrder(m, adapter.existing?.(ctx))) {
        if (obj.owner === stack) del(obj, obj.preventDestroy);
        // Objects someone made by hand in our project: deleting the project would delete them silently.
        else foreign++;
      }
    const anyKept = entries.some((e) => e.action === "skip");
    const ours = project.owner === stack;
    const keepProject = project.preventDestroy || anyKept || foreign > 0;
    if (ours) {
      entries.push({
        key: project.key,
        action: keepProject ? "skip" : "delete",
        id: project.id,
        dependsOn: [],
        changes: [],
        ...(keepProject
          ? {
              reason: project.preventDestroy
                ? "prevent_destroy"
                : anyKept
                  ? "holds resources with prevent_destroy"
                  : `holds ${foreign} object(s) this stack did not create; delete them first to delete the project`,
            }
          : {}),
      });
    }
    // What lives in the project's own record goes with the project; only a project that stays needs it removed.
    if (!ours || keepProject)
      for (const adapter of pruneOrder(kinds).filter((k) => k.insideContainer))
        for (const obj of inDeclarationOrder(m, adapter.existing?.(ctx)))
          entries.push({ key: obj.key, action: "delete", id: obj.id, dependsOn: [], changes: [] });
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
