/**
 * apply(plan): executes the plan as a dependency graph (house style P6); parallelism is bounded where it costs:
 * API requests in flight (the client's limit), not resources in progress. A failed node
 * skips its dependents (reported as `dependency failed: <key>`); independent branches carry on; the summary
 * counts what actually happened. Every failure is prefixed once: `cannot <action> <key>: …` (P2).
 */
import { type CmlClient, redact, type WaitOptions } from "../../client/index.js";
import type { ResourceKey } from "../manifest/model.js";
import { applicationOutputs } from "../resources/application.js";
import { adapterFor, entryKind } from "../resources/index.js";
import type { ApplyContext } from "../resources/types.js";
import type { DesiredState } from "./desired.js";
import type { ApplyCounts, ApplyEvent, ApplySummary } from "./events.js";
import type { LiveState } from "./live.js";
import { PlanOutOfDate } from "./project-race.js";
import type { Plan, PlanEntry } from "./types.js";

export interface ApplyOptions {
  api: CmlClient;
  desired: DesiredState;
  live: LiveState;
  /**
   * Resources in progress at once (default: all that are ready). The CLI's --parallelism bounds API requests in
   * flight instead (CmlClientOptions.maxConcurrentRequests), so a node waiting for an app to start holds no slot
   * and the wall time follows the critical path.
   */
  maxConcurrentNodes?: number;
  onEvent?: (event: ApplyEvent) => void;
  signal?: AbortSignal;
  /** Per-wait bound (project creation, application start, build, deployment). */
  waitTimeoutMs?: number;
  waitIntervalMs?: number;
  adopt?: boolean;
  /**
   * Called once the project this apply created is ready, before anything goes into it. Returns why the plan is
   * out of date (another apply created the same project at the same moment), which stops the apply with
   * `summary.replan` set; or undefined to carry on.
   */
  onProjectCreated?: (projectId: string) => Promise<string | undefined>;
  /** Application URL from its subdomain (the workspace's or the local platform's scheme). */
  appUrl?: (app: { id: string; subdomain: string; projectId: string }) => Promise<string | undefined>;
}

type NodeState = "pending" | "running" | "done" | "failed" | "skipped";

export async function apply(plan: Plan, options: ApplyOptions): Promise<ApplySummary> {
  const started = Date.now();
  const emit = options.onEvent ?? (() => {});
  const secrets = secretValues(options.desired);
  const clean = (text: string) => redact(text, secrets);
  const signal = options.signal ?? new AbortController().signal;
  let projectId = plan.entries.find((e) => e.key === "project")?.id ?? options.live.projects[0]?.id;
  const ctx: ApplyContext = {
    api: options.api,
    stack: plan.stack,
    desired: options.desired,
    live: options.live,
    projectId: () => {
      if (!projectId) throw new Error("the project does not exist yet");
      return projectId;
    },
    setProjectId: (id) => {
      projectId = id;
    },
    outputs: liveOutputs(plan, options.live),
    wait: (what): WaitOptions => ({
      signal,
      ...(options.waitTimeoutMs ? { timeoutMs: options.waitTimeoutMs } : {}),
      ...(options.waitIntervalMs ? { intervalMs: options.waitIntervalMs } : {}),
      onProgress: (status, elapsedMs) => emit({ type: "wait.progress", what, status, elapsedMs }),
    }),
    signal,
    adopt: options.adopt ?? false,
  };

  const entries = withDeleteOrder(plan.entries);
  const state = new Map<ResourceKey, NodeState>(entries.map((e) => [e.key, "pending"]));
  const counts: ApplyCounts = { created: 0, updated: 0, recreated: 0, deleted: 0, unchanged: 0, failed: 0, skipped: 0 };
  const failures: ApplySummary["failures"] = [];
  const skipped: ApplySummary["skipped"] = [];
  const blockedBy = new Map<ResourceKey, ResourceKey>();
  const limit = Math.max(1, options.maxConcurrentNodes ?? Number.POSITIVE_INFINITY);
  const running = new Set<Promise<void>>();
  let replan: string | undefined;

  const run = async (entry: PlanEntry) => {
    const t0 = Date.now();
    state.set(entry.key, "running");
    if (entry.action !== "skip") emit({ type: "resource.start", key: entry.key, action: entry.action });
    try {
      await execute(ctx, entry);
      const created = entry.key === "project" && entry.action === "create";
      const id = ctx.outputs.get(entry.key)?.id;
      if (created && id && options.onProjectCreated) {
        const outOfDate = await options.onProjectCreated(id);
        if (outOfDate) throw new PlanOutOfDate(outOfDate);
      }
      await addAppUrl(ctx, entry, options.appUrl);
      state.set(entry.key, "done");
      countDone(counts, entry);
      if (entry.action !== "skip")
        emit({
          type: "resource.done",
          key: entry.key,
          action: entry.action,
          outcome: "ok",
          elapsedMs: Date.now() - t0,
        });
    } catch (error) {
      if (error instanceof PlanOutOfDate) {
        // Nothing else has started (everything depends on the project): stop here and let the command plan again.
        replan = error.message;
        state.set(entry.key, "done");
        emit({
          type: "resource.done",
          key: entry.key,
          action: entry.action,
          outcome: "skipped",
          elapsedMs: Date.now() - t0,
          error: replan,
        });
        return;
      }
      const message = clean(
        `cannot ${entry.action} ${entry.key}: ${error instanceof Error ? error.message : String(error)}`,
      );
      state.set(entry.key, "failed");
      counts.failed++;
      failures.push({ key: entry.key, error: message });
      emit({
        type: "resource.done",
        key: entry.key,
        action: entry.action,
        outcome: "failed",
        elapsedMs: Date.now() - t0,
        error: message,
      });
    }
  };

  for (;;) {
    // Nodes whose dependencies failed or were skipped are skipped, transitively.
    for (const e of entries) {
      if (state.get(e.key) !== "pending") continue;
      const bad = e.dependsOn.find((d) => state.get(d) === "failed" || state.get(d) === "skipped");
      if (bad) {
        const root = blockedBy.get(bad) ?? bad;
        blockedBy.set(e.key, root);
        state.set(e.key, "skipped");
        counts.skipped++;
        const reason = `dependency failed: ${root}`;
        skipped.push({ key: e.key, reason });
        emit({ type: "resource.done", key: e.key, action: e.action, outcome: "skipped", elapsedMs: 0, error: reason });
      }
    }
    const ready = entries.filter(
      (e) => state.get(e.key) === "pending" && e.dependsOn.every((d) => !state.has(d) || state.get(d) === "done"),
    );
    for (const entry of ready) {
      if (running.size >= limit) break;
      if (signal.aborted || replan) break;
      const p: Promise<void> = run(entry).finally(() => running.delete(p));
      running.add(p);
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  // Anything still pending was never reachable (aborted): report it as skipped.
  for (const e of entries)
    if (state.get(e.key) === "pending") {
      counts.skipped++;
      skipped.push({ key: e.key, reason: replan ? "planning again" : signal.aborted ? "cancelled" : "not reached" });
    }

  const links: ApplySummary["links"] = [];
  // Links to what this apply made or changed (an unchanged application costs no extra call).
  const touched = new Set(entries.filter((e) => e.action !== "skip" && e.action !== "delete").map((e) => e.key));
  // addAppUrl already asked for each app's URL; asking again here cost one sequential call per app.
  for (const [key, out] of ctx.outputs)
    if (entryKind(key) === "applications" && out.url && touched.has(key) && state.get(key) === "done")
      links.push({ key, url: out.url });
  const summary: ApplySummary = {
    type: "summary",
    counts,
    elapsedMs: Date.now() - started,
    failures,
    skipped,
    links,
    ...(replan ? { replan } : {}),
  };
  emit(summary);
  return summary;
}

async function execute(ctx: ApplyContext, entry: PlanEntry): Promise<void> {
  const adapter = adapterFor(entry.key);
  if (entry.preventDestroy && (entry.action === "delete" || entry.action === "recreate"))
    throw new Error(`prevent_destroy is set; remove it from the manifest to allow a ${entry.action}`);
  switch (entry.action) {
    case "skip":
      return;
    case "create":
      ctx.outputs.set(entry.key, await adapter.create(ctx, entry));
      return;
    case "update":
      ctx.outputs.set(entry.key, await adapter.update(ctx, entry));
      return;
    case "recreate":
      await adapter.delete(ctx, entry);
      ctx.outputs.set(entry.key, await adapter.create(ctx, { ...entry, id: undefined }));
      return;
    case "delete":
      await adapter.delete(ctx, entry);
      ctx.outputs.delete(entry.key);
      return;
  }
}

/** A created or changed application's URL joins its outputs, for dependents' `${resources…url}` references. */
async function addAppUrl(ctx: ApplyContext, entry: PlanEntry, appUrl: ApplyOptions["appUrl"]): Promise<void> {
  const out = ctx.outputs.get(entry.key);
  if (entryKind(entry.key) !== "applications" || !out || out.url || !out.id || !appUrl) return;
  const url = await appUrl({ id: out.id, subdomain: out.subdomain ?? "", projectId: ctx.projectId() });
  if (url) out.url = url;
}

function countDone(c: ApplyCounts, entry: PlanEntry): void {
  const field = {
    skip: "unchanged",
    create: "created",
    update: "updated",
    recreate: "recreated",
    delete: "deleted",
  } as const;
  c[field[entry.action]]++;
}

/**
 * Deletes run children first: the project's delete waits for every other delete, and deleting a job waits for
 * deleting the jobs that run after it.
 */
function withDeleteOrder(entries: readonly PlanEntry[]): PlanEntry[] {
  const deletes = entries.filter((e) => e.action === "delete").map((e) => e.key);
  return entries.map((e) =>
    e.action === "delete" && e.key === "project"
      ? { ...e, dependsOn: [...new Set([...e.dependsOn, ...deletes.filter((k) => k !== "project")])] }
      : e,
  );
}

/** Outputs of objects that already exist, so references to unchanged resources resolve. */
function liveOutputs(plan: Plan, live: LiveState): Map<ResourceKey, Record<string, string>> {
  const out = new Map<ResourceKey, Record<string, string>>();
  for (const e of plan.entries) {
    if (!e.id || e.action === "delete") continue;
    const kind = entryKind(e.key);
    if (kind === "applications") {
      const app = live.applications.find((a) => a.id === e.id);
      if (app) out.set(e.key, applicationOutputs(app, live.appUrls?.[e.id]));
    } else if (kind === "models") {
      const m = live.models.find((lm) => lm.model.id === e.id)?.model;
      out.set(e.key, { id: e.id, access_key: m?.access_key ?? "", crn: m?.crn ?? "", name: m?.name ?? "" });
    } else if (kind === "deployments") {
      const d = live.models.flatMap((lm) => lm.deployments).find((x) => x.id === e.id);
      out.set(e.key, { id: e.id, build_id: d?.build_id ?? "" });
    } else out.set(e.key, { id: e.id });
  }
  return out;
}

/** Every secret value the manifest holds, for redacting messages. */
export function secretValues(desired: DesiredState): string[] {
  const m = desired.manifest;
  const envs = [
    m.project.env,
    ...Object.values(m.jobs).map((j) => j.env),
    ...Object.values(m.applications).map((a) => a.env),
    ...Object.values(m.models).map((x) => x.deployment.env),
  ];
  return envs.flatMap((env) =>
    Object.values(env).flatMap((v) => (typeof v === "object" && v.kind === "secret" && v.value ? [v.value] : [])),
  );
}
