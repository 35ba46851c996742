/**
 * Comparing what a doc shows a command printing with what it really printed, and rewriting the doc from a real run.
 *
 * Both sides are compared line by line after normalising what legitimately varies from run to run (ids, ports,
 * times, durations, rates, pids, keys, the checkout's path); everything else must be equal. The doc may leave
 * things out with `…`: a line that is only `…` stands for any number of lines (none included), a `…` inside a
 * line for any text. Regeneration keeps every doc line that still matches as the doc writes it (its example port,
 * its `…`), and puts the real line where a shown line no longer matches.
 */

/** How the docs write the checkout's directory; the real (temporary) path is shown as this. */
export const DOC_ROOT = "~/cml-lab";
export const ELLIPSIS = "…";

/** What varies between runs, in the order applied; each becomes a fixed token on both sides. */
const VARYING: Array<[RegExp, string]> = [
  [/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g, "<time>"],
  [/\b(?:127\.0\.0\.1|localhost):\d+/g, "127.0.0.1:<port>"],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, "<uuid>"],
  [/\b[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}\b/g, "<id>"],
  [/\b[0-9a-f]{64}\.[0-9a-f]{64}\b/g, "<api key>"],
  [/\b[0-9a-f]{32,}\b/g, "<hash>"],
  [/\bpid \d+/g, "pid <n>"],
  [/\b\d+(?:\.\d+)? ([a-z]+)\/s\b/g, "<rate> $1/s"],
  // Durations as formatDuration and the progress lines write them (57 ms, 6.2s, 1m5s); the padding before them
  // moves with their width (the live list right-aligns them), so it goes too.
  [/ *\b(?:\d+m\d+s|\d+(?:\.\d+)? ?(?:ms|s))\b/g, " <duration>"],
];

export function canonical(line: string): string {
  let out = line;
  for (const [pattern, token] of VARYING) out = out.replace(pattern, token);
  return out;
}

// Terminal escape sequences (colour, cursor moves): built from a string, as a regex literal may not hold ESC.
const ESCAPES = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g");

/** A real output as lines: escape sequences and carriage returns gone, the checkout shown as DOC_ROOT. */
export function outputLines(text: string, roots: string[]): string[] {
  let clean = text.replace(ESCAPES, "").replace(/\r\n?/g, "\n");
  // Longest first, so a root that contains another is replaced whole.
  for (const root of [...roots].sort((a, b) => b.length - a.length)) clean = clean.split(root).join(DOC_ROOT);
  const lines = clean.split("\n").map((l) => l.trimEnd());
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines;
}

export function isEllipsis(line: string): boolean {
  return line.trim() === ELLIPSIS;
}

const patterns = new Map<string, RegExp>();

/** Whether a real line is what a doc line shows (after normalising both; `…` inside the doc line is any text). */
export function lineMatches(shown: string, real: string): boolean {
  let pattern = patterns.get(shown);
  if (!pattern) {
    const parts = canonical(shown.trimEnd())
      .split(ELLIPSIS)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    pattern = new RegExp(`^${parts.join(".*")}$`);
    patterns.set(shown, pattern);
  }
  return pattern.test(canonical(real.trimEnd()));
}

/** Shown and real lines close enough that a changed value, not a different line, is the likelier story. */
function similar(shown: string, real: string): boolean {
  const words = (line: string) =>
    new Set(
      canonical(line)
        .split(/[^\p{L}\p{N}_<>]+/u)
        .filter(Boolean),
    );
  const a = words(shown.replaceAll(ELLIPSIS, " "));
  const b = words(real);
  if (a.size === 0 || b.size === 0) return false;
  let common = 0;
  for (const w of a) if (b.has(w)) common++;
  return common / Math.max(a.size, b.size) >= 0.5;
}

export type Step =
  | { kind: "match"; shown: string; real: string }
  | { kind: "elided"; shown: string; real: string[] }
  | { kind: "changed"; shown: string; real: string }
  | { kind: "missing"; shown: string }
  | { kind: "extra"; real: string };

/**
 * The cheapest way to read the real lines as the shown ones: matches and `…` cost nothing, a changed line half,
 * a shown line that is not there or a real line that is not shown one each. Cost 0 means the output matches.
 */
export function align(shown: string[], real: string[]): { cost: number; steps: Step[] } {
  const m = shown.length;
  const n = real.length;
  // cost[i][j]: reading real[j..] as shown[i..].
  const cost: number[][] = Array.from({ length: m + 1 }, () => new Array<number>(n + 1).fill(0));
  const at = (i: number, j: number) => cost[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = m; i >= 0; i--) {
    for (let j = n; j >= 0; j--) {
      const row = cost[i] as number[];
      if (i === m) {
        row[j] = n - j;
        continue;
      }
      const line = shown[i] as string;
      if (isEllipsis(line)) {
        row[j] = Math.min(at(i + 1, j), j < n ? at(i, j + 1) : Number.POSITIVE_INFINITY);
        continue;
      }
      let best = 1 + at(i + 1, j);
      if (j < n) {
        const r = real[j] as string;
        best = Math.min(best, 1 + at(i, j + 1));
        if (lineMatches(line, r)) best = Math.min(best, at(i + 1, j + 1));
        else if (similar(line, r)) best = Math.min(best, 0.5 + at(i + 1, j + 1));
      }
      row[j] = best;
    }
  }
  const steps: Step[] = [];
  let i = 0;
  let j = 0;
  let elided: string[] | undefined;
  while (i < m || j < n) {
    const here = at(i, j);
    const line = shown[i];
    const r = real[j];
    if (line !== undefined && isEllipsis(line)) {
      elided ??= [];
      if (r !== undefined && at(i, j + 1) === here && at(i + 1, j) !== here) {
        elided.push(r);
        j++;
      } else if (at(i + 1, j) === here) {
        steps.push({ kind: "elided", shown: line, real: elided });
        elided = undefined;
        i++;
      } else {
        elided.push(r as string);
        j++;
      }
      continue;
    }
    if (line !== undefined && r !== undefined && lineMatches(line, r) && at(i + 1, j + 1) === here) {
      steps.push({ kind: "match", shown: line, real: r });
      i++;
      j++;
    } else if (line !== undefined && r !== undefined && at(i + 1, j + 1) + 0.5 === here && similar(line, r)) {
      steps.push({ kind: "changed", shown: line, real: r });
      i++;
      j++;
    } else if (line !== undefined && at(i + 1, j) + 1 === here) {
      steps.push({ kind: "missing", shown: line });
      i++;
    } else {
      steps.push({ kind: "extra", real: r as string });
      j++;
    }
  }
  return { cost: at(0, 0), steps };
}

export function matches(shown: string[], real: string[]): boolean {
  return align(shown, real).cost === 0;
}

/** The doc's lines rewritten from a real run: matching lines and `…` as the doc has them, the rest as printed. */
export function regenerate(shown: string[], real: string[]): string[] {
  const { cost, steps } = align(shown, real);
  if (cost === 0) return shown;
  return steps.flatMap((step) => {
    if (step.kind === "match" || step.kind === "elided") return [step.shown];
    if (step.kind === "changed" || step.kind === "extra") return [step.real];
    return [];
  });
}

/** A diff for a failure: `-` what the doc shows, `+` what was printed, with a few lines of context. */
export function describeDiff(shown: string[], real: string[], context = 3): string {
  const rows: Array<{ mark: " " | "-" | "+"; text: string }> = [];
  for (const step of align(shown, real).steps) {
    if (step.kind === "match") rows.push({ mark: " ", text: step.real });
    else if (step.kind === "elided")
      rows.push({ mark: " ", text: `${step.shown}   (${step.real.length} line${step.real.length === 1 ? "" : "s"})` });
    else if (step.kind === "changed") rows.push({ mark: "-", text: step.shown }, { mark: "+", text: step.real });
    else if (step.kind === "missing") rows.push({ mark: "-", text: step.shown });
    else rows.push({ mark: "+", text: step.real });
  }
  const near = rows.map((_, k) => rows.slice(Math.max(0, k - context), k + context + 1).some((r) => r.mark !== " "));
  const out: string[] = [];
  rows.forEach((row, k) => {
    if (near[k]) out.push(`${row.mark} ${row.text}`);
    else if (near[k - 1]) out.push("  ⋮");
  });
  return out.join("\n");
}
