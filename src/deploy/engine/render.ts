/**
 * Human output (house style P3/P4): lines, not printing. One line per resource with its symbol, field changes
 * indented under it, secrets as `(secret)`, and the fixed summary line. Colour is the caller's decision
 * (TTY and no NO_COLOR), passed in as a flag.
 */
import { styleText } from "node:util";
import { type ActionCounts, type ActionType, emptyCounts, isDestructive, planSummaryLine, SYMBOLS } from "./actions.js";
import { type ApplyEvent, applySummaryLine } from "./events.js";
import type { FieldChange, Plan, PlanEntry, PlanValue } from "./types.js";

export interface RenderOptions {
  color: boolean;
  /** Also list unchanged resources (default: only the summary counts them). */
  showUnchanged?: boolean;
}

type Style = Parameters<typeof styleText>[0];
const ACTION_STYLE: Record<ActionType, Style> = {
  skip: "dim",
  update: "yellow",
  create: "green",
  recreate: "magenta",
  delete: "red",
};

export function countActions(plan: Pick<Plan, "entries">): ActionCounts {
  const counts = emptyCounts();
  for (const e of plan.entries) counts[e.action]++;
  return counts;
}

export function renderPlan(plan: Plan, options: RenderOptions): string[] {
  const paint = (style: Style, text: string) => (options.color ? styleText(style, text) : text);
  const lines: string[] = [];
  for (const conflict of plan.conflicts) lines.push(paint("red", `error: ${conflict}`));
  for (const entry of plan.entries) {
    // An unchanged entry with a reason (kept by prevent_destroy, kept for objects we did not create) is news.
    if (entry.action === "skip" && !options.showUnchanged && !entry.reason) continue;
    lines.push(...renderEntry(entry, paint));
  }
  for (const skipped of plan.skipped ?? [])
    lines.push(`${paint("dim", `  - ${skipped.key}`)} (skipped: ${skipped.reason})`);
  const counts = countActions(plan);
  if (lines.length > 0) lines.push("");
  let summary = planSummaryLine(counts);
  if (plan.entries.some((e) => e.action === "delete" && e.reason === "no longer in the manifest"))
    summary += " Deletes remove objects that left the manifest.";
  lines.push(summary);
  return lines;
}

/**
 * What a confirmation asks about: every delete and recreate, one per line, with its reason. Returns the lines
 * and the question (the prompt adds "[y/N]").
 */
export function renderConfirmation(plan: Plan, destroy: boolean): { lines: string[]; question: string } {
  const destructive = plan.entries.filter((e) => isDestructive(e.action));
  const deletes = destructive.filter((e) => e.action === "delete").length;
  const recreates = destructive.length - deletes;
  const what = [deletes ? `${deletes} to delete` : "", recreates ? `${recreates} to recreate` : ""].filter(Boolean);
  const lines = [
    `${destroy ? "Destroy" : "This apply"} deletes or recreates ${destructive.length} object(s) (${what.join(", ")}):`,
    ...destructive.map((e) => `${SYMBOLS[e.action].padStart(3)} ${e.key}${e.reason ? ` (${e.reason})` : ""}`),
  ];
  const question = destroy ? "Destroy them?" : "Apply the plan, deleting or recreating them?";
  return { lines, question };
}

function renderEntry(entry: PlanEntry, paint: (style: Style, text: string) => string): string[] {
  const symbol = SYMBOLS[entry.action].padStart(3);
  const why = entry.reason ? ` (${entry.reason})` : "";
  const guard =
    entry.preventDestroy && (entry.action === "delete" || entry.action === "recreate") ? " [prevent_destroy]" : "";
  const lines = [paint(ACTION_STYLE[entry.action], `${symbol} ${entry.key}`) + why + guard];
  const isFiles = entry.key.startsWith("files.");
  for (const change of entry.changes) lines.push(`      ${isFiles ? renderFileChange(change) : renderChange(change)}`);
  return lines;
}

function renderChange(change: FieldChange): string {
  const tail = change.action === "recreate" ? "   (forces recreate)" : "";
  return `${change.path}: ${formatValue(change.old)} → ${formatValue(change.new)}${tail}`;
}

function renderFileChange(change: FieldChange): string {
  if (change.old === undefined) return `+ ${change.path}`;
  if (change.new === undefined) return `- ${change.path}`;
  return `~ ${change.path}`;
}

export function formatValue(value: PlanValue | undefined): string {
  if (value === undefined) return "(none)";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
  if ("secret" in value) return "(secret)";
  if ("knownAfterApply" in value) return "(known after apply)";
  return JSON.stringify(value);
}

/** Colour only on a TTY, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTTY && !env.NO_COLOR && env.TERM !== "dumb";
}

/** One plain line per apply event (pipes, CI and TTYs alike); NDJSON mode prints the events themselves. */
export function renderEvent(event: ApplyEvent, verb = "Apply"): string[] {
  switch (event.type) {
    case "resource.start":
      return [`${SYMBOLS[event.action].padStart(3)} ${event.key}: ${PROGRESSIVE[event.action]}…`];
    case "resource.done": {
      const took = `(${(event.elapsedMs / 1000).toFixed(1)}s)`;
      if (event.outcome === "ok")
        return [`${SYMBOLS[event.action].padStart(3)} ${event.key}: ${PAST[event.action]} ${took}`];
      if (event.outcome === "skipped") return [`    ${event.key}: not run (${event.error ?? "skipped"})`];
      return [`  ! ${event.key}: failed ${took}: ${event.error ?? ""}`];
    }
    case "wait.progress":
      return [`    waiting for ${event.what}: ${event.status} (${Math.round(event.elapsedMs / 1000)}s)`];
    case "summary": {
      // Stopped before anything went into the project; the command plans again and prints why.
      if (event.replan) return [`${verb} stopped before changing anything else: its plan is out of date.`];
      const lines = ["", applySummaryLine(event, verb)];
      for (const f of event.failures) lines.push(`  failed: ${f.error}`);
      for (const s of event.skipped) lines.push(`  not run: ${s.key} (${s.reason})`);
      for (const l of event.links) lines.push(`  ${l.key}: ${l.url}`);
      return lines;
    }
  }
}

const PROGRESSIVE: Record<ActionType, string> = {
  skip: "checking",
  update: "updating",
  create: "creating",
  recreate: "recreating",
  delete: "deleting",
};
const PAST: Record<ActionType, string> = {
  skip: "unchanged",
  update: "updated",
  create: "created",
  recreate: "recreated",
  delete: "deleted",
};
