/**
 * The plan as Markdown for a pull-request comment (`deploy plan --format markdown`): the fixed summary line, a
 * table of actions, and the field-level changes in a collapsible block. A renderer over the same plan data as
 * renderPlan; secrets appear only as changed or unchanged, never their hash.
 */
import { planSummaryLine, SYMBOLS } from "./actions.js";
import { countActions, formatValue } from "./render.js";
import type { FieldChange, Plan, PlanValue } from "./types.js";

/** Text safe inside a Markdown table cell and inline code: pipes escaped, newlines flattened. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function code(text: string): string {
  const flat = cell(text);
  return flat.includes("`") ? `\`\` ${flat} \`\`` : `\`${flat}\``;
}

function isSecret(value: PlanValue | undefined): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "secret" in value;
}

function changeRow(change: FieldChange): string {
  if (isSecret(change.old) || isSecret(change.new)) {
    const same = JSON.stringify(change.old) === JSON.stringify(change.new);
    return `| ${code(change.path)} | (secret) | ${same ? "unchanged" : "changed"} |`;
  }
  const show = (value: PlanValue | undefined) => (value === undefined ? "—" : code(formatValue(value)));
  const forces = change.action === "recreate" ? " (forces recreate)" : "";
  return `| ${code(change.path)} | ${show(change.old)} | ${show(change.new)}${forces} |`;
}

export function renderPlanMarkdown(plan: Plan): string[] {
  const counts = countActions(plan);
  const lines = [
    `### deploy plan: ${cell(plan.stack)} → ${cell(plan.target.name)} (project ${code(plan.project)})`,
    "",
    `**${planSummaryLine(counts)}**`,
    "",
  ];
  for (const conflict of plan.conflicts) lines.push(`> **error:** ${cell(conflict)}`, "");
  const shown = plan.entries.filter((entry) => entry.action !== "skip" || entry.reason);
  if (shown.length > 0 || (plan.skipped ?? []).length > 0) {
    lines.push("| | resource | action | fields | note |", "| --- | --- | --- | --- | --- |");
    for (const entry of shown) {
      const symbol = SYMBOLS[entry.action].trim();
      const note = [entry.reason, entry.preventDestroy ? "prevent_destroy" : undefined].filter(Boolean).join("; ");
      lines.push(
        `| ${symbol ? code(symbol) : ""} | ${code(entry.key)} | ${entry.action} | ${entry.changes.length} | ${cell(note)} |`,
      );
    }
    for (const skipped of plan.skipped ?? [])
      lines.push(`| | ${code(skipped.key)} | not deployed | 0 | ${cell(`skipped: ${skipped.reason}`)} |`);
    lines.push("");
  }
  const changed = shown.filter((entry) => entry.changes.length > 0);
  if (changed.length > 0) {
    const fields = changed.reduce((sum, entry) => sum + entry.changes.length, 0);
    lines.push("<details>", `<summary>Field-level changes (${fields})</summary>`, "");
    for (const entry of changed) {
      lines.push(`#### ${code(entry.key)} (${entry.action})`, "", "| field | before | after |", "| --- | --- | --- |");
      for (const change of entry.changes) lines.push(changeRow(change));
      lines.push("");
    }
    lines.push("</details>");
  }
  return lines;
}
