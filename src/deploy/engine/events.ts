/**
 * What apply reports while it runs (house style P12). The CLI renders these as lines or NDJSON; tests assert them.
 * No event carries a secret value (messages are redacted before they are emitted).
 */
import type { ResourceKey } from "../manifest/model.js";
import type { ActionType } from "./actions.js";

export interface ApplyCounts {
  created: number;
  updated: number;
  recreated: number;
  deleted: number;
  unchanged: number;
  failed: number;
  /** Not run because something they depend on failed. */
  skipped: number;
}

export type ApplyEvent =
  | { type: "resource.start"; key: ResourceKey; action: ActionType }
  | {
      type: "resource.done";
      key: ResourceKey;
      action: ActionType;
      outcome: "ok" | "failed" | "skipped";
      elapsedMs: number;
      /** Failure message, or `dependency failed: <key>` for a skipped node. */
      error?: string;
    }
  | { type: "wait.progress"; what: string; status: string; elapsedMs: number }
  | {
      type: "summary";
      counts: ApplyCounts;
      elapsedMs: number;
      failures: { key: ResourceKey; error: string }[];
      skipped: { key: ResourceKey; reason: string }[];
      /** Links to what was made: application URLs. */
      links: { key: ResourceKey; url: string }[];
      /** Set when the apply stopped early because its plan went out of date (a project race); plan again. */
      replan?: string;
    };

export type ApplySummary = Extract<ApplyEvent, { type: "summary" }>;

/** `Apply: 2 created, 1 updated, 0 recreated, 0 deleted, 5 unchanged, 0 failed (41s).` — fixed wording. */
export function applySummaryLine(s: Pick<ApplySummary, "counts" | "elapsedMs">, verb = "Apply"): string {
  const c = s.counts;
  return `${verb}: ${c.created} created, ${c.updated} updated, ${c.recreated} recreated, ${c.deleted} deleted, ${c.unchanged} unchanged, ${c.failed} failed (${Math.round(s.elapsedMs / 1000)}s).`;
}
