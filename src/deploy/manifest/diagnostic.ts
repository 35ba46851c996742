/**
 * Diagnostics: every problem found in a manifest, with where it is (house style P10). Validation collects
 * them all; nothing here throws. Rendering is pure: the loader stores the offending source line on the
 * diagnostic, so the formatter needs no file system.
 */
import { styleText } from "node:util";
import type { SourceLocation } from "./model.js";

export type Severity = "error" | "warning";

/** A span in a file; `endLine`/`endCol` (exclusive column) mark how far the caret reaches. */
export interface DiagnosticLocation extends SourceLocation {
  endLine?: number;
  endCol?: number;
}

export interface Diagnostic {
  severity: Severity;
  message: string;
  /** Absent only for problems that come from flags or the environment rather than a file. */
  location?: DiagnosticLocation;
  /** Where in the manifest, e.g. `jobs.scrape.cpu` or `files[0].from`. */
  path?: string;
  /** One line that says how to fix it ("did you mean …?"). */
  hint?: string;
  /** The text of the line at `location.line`, for the caret display (not part of the JSON output). */
  source?: string;
}

export type DiagnosticFormat = "text" | "github" | "json";

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === "error");
}

/** Stable order for output: by file, line, column, then message (input order for unlocated ones). */
export function sortDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  return diags
    .map((d, i) => ({ d, i }))
    .sort((a, b) => {
      const la = a.d.location;
      const lb = b.d.location;
      if (!la || !lb) return la ? 1 : lb ? -1 : a.i - b.i;
      return (
        la.file.localeCompare(lb.file) ||
        la.line - lb.line ||
        la.col - lb.col ||
        a.d.message.localeCompare(b.d.message) ||
        a.i - b.i
      );
    })
    .map(({ d }) => d);
}

export function formatDiagnostics(
  diags: readonly Diagnostic[],
  format: DiagnosticFormat,
  opts: { color: boolean },
): string {
  const sorted = sortDiagnostics(diags);
  switch (format) {
    case "json":
      return `${JSON.stringify(sorted.map(toJson), null, 2)}\n`;
    case "github":
      return sorted.map(toGithub).join("");
    case "text":
      return formatText(sorted, opts.color);
  }
}

function toJson(d: Diagnostic): Omit<Diagnostic, "source"> {
  const { source: _source, ...rest } = d;
  return rest;
}

/** GitHub workflow commands: `::error file=…,line=…,col=…::message` (properties and data escaped as documented). */
function toGithub(d: Diagnostic): string {
  const props: string[] = [];
  if (d.location) {
    props.push(`file=${escapeProperty(d.location.file)}`, `line=${d.location.line}`, `col=${d.location.col}`);
    if (d.location.endLine !== undefined) props.push(`endLine=${d.location.endLine}`);
    if (d.location.endCol !== undefined && d.location.endLine === d.location.line)
      props.push(`endColumn=${d.location.endCol}`);
  }
  if (d.path) props.push(`title=${escapeProperty(d.path)}`);
  const text = d.hint ? `${d.message} (${d.hint})` : d.message;
  return `::${d.severity}${props.length ? ` ${props.join(",")}` : ""}::${escapeData(text)}\n`;
}

function escapeData(s: string): string {
  return s.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

function formatText(diags: readonly Diagnostic[], color: boolean): string {
  const paint = (style: Parameters<typeof styleText>[0], s: string) => (color ? styleText(style, s) : s);
  const out: string[] = [];
  for (const d of diags) {
    const where = d.location ? `${d.location.file}:${d.location.line}:${d.location.col}: ` : "";
    const label = d.severity === "error" ? paint(["bold", "red"], "error") : paint(["bold", "yellow"], "warning");
    out.push(`${paint("bold", where)}${label}: ${d.message}`);
    if (d.location && d.source !== undefined) {
      const gutter = String(d.location.line);
      const pad = " ".repeat(gutter.length);
      const line = d.source.replaceAll("\t", " ");
      const start = Math.max(0, d.location.col - 1);
      const sameLine = d.location.endLine === undefined || d.location.endLine === d.location.line;
      const end = sameLine && d.location.endCol !== undefined ? d.location.endCol - 1 : line.length;
      const width = Math.max(1, Math.min(end, line.length) - start);
      out.push(`${paint("dim", ` ${gutter} |`)} ${line}`);
      out.push(`${paint("dim", ` ${pad} |`)} ${" ".repeat(start)}${paint("red", "^".repeat(width))}`);
    }
    if (d.hint) out.push(`  ${paint("cyan", "hint")}: ${d.hint}`);
  }
  const errors = diags.filter((d) => d.severity === "error").length;
  const warnings = diags.length - errors;
  if (diags.length > 0) out.push(`${plural(errors, "error")}, ${plural(warnings, "warning")}`);
  return out.length ? `${out.join("\n")}\n` : "";
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
