/**
 * apply(plan): executes the plan as a dependency graph (house style P6); parallelism is bounded where it costs:
 * API requests in flight (the client's limit), not resources in progress. A failed node
 * skips its dependents (reported as `dependency failed: <key>`); independent branches carry on; the summary
 * counts what actually happened. Every failure is prefixed once: `cannot <action> <key>: …` (P2).
 */
import { type CmlClient, redact, type WaitOptions } from "../../client/index.js";
import type { ResourceKey } from "../manifest/model.js";
import type { DesiredState } from "./desired.js";
import type { ApplyCounts, ApplyEvent, ApplySummary } from "./events.js";
import {
  type ApplyContext,
  adapterFor,
  containerOf,
  type KindRegistry,
  type LiveState,
  type Platform,
} from "./kind.js";
import { PlanOutOfDate } from "./project-race.js";
import type { Plan, PlanEntry } from "./types.js";

export interface ApplyOptions {
  api: CmlClient;
  desired: DesiredState;
  live: LiveState;
  /** The kinds the plan was made with (src/deploy/resources/index.ts). */
  kinds: KindRegistry;
  /** Where the objects run: an application's URL, logs (connection.ts makes it). */
  platform: Platform;
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
  /**
   * Called the moment the project this apply creates has an id, before it is ready (and before onProjectCreated):
   * reads that onProjectCreated needs can run while the project becomes ready.
   */
  onProjectId?: (projectId: string) => void;
  /** Receives every resource's outputs once the apply ends (ids, URLs, access keys). */
  onOutputs?: (outputs: ReadonlyMap<ResourceKey, Record<string, string>>) => void;
}

type NodeState = "pending" | "running" | "done" | "failed" | "skipped";

export async function apply(plan: Plan, options: ApplyOptions): Promise<ApplySummary> {
  const started = Date.now();
  const emit = options.onEvent ?? (() => {});
  const secrets = secretValues(options.desired);
  const clean = (text: string) => redact(text, secrets);
  const signal = options.signal ?? new AbortController().signal;
  const container = containerOf(options.kinds);
  const isContainer = (key: ResourceKey) => container.owns(key);
  let projectId = plan.entries.find((e) => isContainer(e.key))?.id ?? container.container.one(options, false).found?.id;
  const byKey = new Map(plan.entries.map((e) => [e.key, e]));
  const shared = new Map<string, Promise<unknown>>();
  const creatingContainer = plan.entries.some((e) => isContainer(e.key) && e.action === "create");
  const ctx: ApplyContext = {
    api: options.api,
    stack: plan.stack,
    desired: options.desired,
    live: options.live,
    platform: options.platform,
    projectId: () => {
      if (!projectId) throw new Error("the project does not exist yet");
      return projectId;
    },
    setProjectId: (id) => {
      const first = projectId === undefined;
      projectId = id;
      if (first && creatingContainer) options.onProjectId?.(id);
    },
    outputs: liveOutputs(plan, options),
    wait: (what): WaitOptions => ({
      signal,
      ...(options.waitTimeoutMs ? { timeoutMs: options.waitTimeoutMs } : {}),
      ...(options.waitIntervalMs ? { intervalMs: options.waitIntervalMs } : {}),
      onProgress: (status, elapsedMs) => emit({ type: "wait.progress", what, status, elapsedMs }),
    }),
    signal,
    adopt: options.adopt ?? false,
    planned: (key) => byKey.get(key),
    once: <T>(name: string, work: () => Promise<T>): Promise<T> => {
      let promise = shared.get(name) as Promise<T> | undefined;
      if (!promise) {
        promise = work();
        shared.set(name, promise);
      }
      return promise;
    },
  };

  const entries = withDeleteOrder(plan.entries, isContainer);
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
      await execute(ctx, options.kinds, entry);
      const created = isContainer(entry.key) && entry.action === "create";
      const id = ctx.outputs.get(entry.key)?.id;
      if (created && id && options.onProjectCreated) {
        const outOfDate = await options.onProjectCreated(id);
        if (outOfDate) throw new PlanOutOfDate(outOfDate);
      }
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
  // Adapters put a URL in the outputs of what has one (applications); nothing is asked again here.
  const planRank = (key: ResourceKey) => {
    const i = entries.findIndex((e) => e.key === key);
    return i < 0 ? entries.length : i;
  };
  // In plan order, not in the order parallel creates happened to finish: the same apply prints the same list.
  for (const { key } of entries) {
    const url = ctx.outputs.get(key)?.url;
    if (url && touched.has(key) && state.get(key) === "done") links.push({ key, url });
  }
  const summary: ApplySummary = {
    type: "summary",
    counts,
    elapsedMs: Date.now() - started,
    failures,
    skipped,
    links,
    ...(replan ? { replan } : {}),
  };
  options.onOutputs?.(new Map([...ctx.outputs].sort(([a], [b]) => planRank(a) - planRank(b))));
  emit(summary);
  return summary;
}

async function execute(ctx: ApplyContext, kinds: KindRegistry, entry: PlanEntry): Promise<void> {
  const adapter = adapterFor(kinds, entry.key);
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
function withDeleteOrder(entries: readonly PlanEntry[], isContainer: (key: ResourceKey) => boolean): PlanEntry[] {
  const deletes = entries.filter((e) => e.action === "delete").map((e) => e.key);
  return entries.map((e) =>
    e.action === "delete" && isContainer(e.key)
      ? { ...e, dependsOn: [...new Set([...e.dependsOn, ...deletes.filter((k) => !isContainer(k))])] }
      : e,
  );
}

/** Outputs of objects that already exist, so references to unchanged resources resolve. */
export function liveOutputs(
  plan: Plan,
  options: Pick<ApplyOptions, "kinds" | "desired" | "live">,
): Map<ResourceKey, Record<string, string>> {
  const out = new Map<ResourceKey, Record<string, string>>();
  for (const e of plan.entries) {
    if (!e.id || e.action === "delete") continue;
    const outputs = adapterFor(options.kinds, e.key).outputs(e.key, options);
    out.set(e.key, outputs ?? { id: e.id });
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
