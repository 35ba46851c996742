/**
 * The terminal view of a running apply: one line per resource with its state, elapsed time and the last status a
 * wait saw, redrawn in place. It consumes the same events as the plain-line renderer (house style P12) and is a
 * pure function of those events and a clock, so tests drive it without a terminal.
 */
import { SYMBOLS } from "./actions.js";
import type { ApplyEvent } from "./events.js";
import { renderEvent } from "./render.js";

interface Row {
  symbol: string;
  state: "running" | "done" | "failed" | "not run";
  startedAt: number;
  endedAt?: number;
  status?: string;
  note?: string;
}

export class LiveList {
  private readonly rows = new Map<string, Row>();
  private drawn = 0;

  constructor(
    private readonly write: (text: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one event; redraws the list (or, for the summary, draws it a last time and prints the summary). */
  update(event: ApplyEvent, verb = "Apply"): void {
    switch (event.type) {
      case "resource.start":
        this.rows.set(event.key, { symbol: SYMBOLS[event.action], state: "running", startedAt: this.now() });
        break;
      case "resource.done": {
        const row = this.rows.get(event.key) ?? {
          symbol: SYMBOLS[event.action],
          state: "running",
          startedAt: this.now(),
        };
        row.state = event.outcome === "ok" ? "done" : event.outcome === "failed" ? "failed" : "not run";
        row.endedAt = row.startedAt + event.elapsedMs;
        if (event.error) row.note = event.error;
        this.rows.set(event.key, row);
        break;
      }
      case "wait.progress": {
        // `what` reads "<key> to be running"; the key is its first word.
        const row = this.rows.get(event.what.split(" ")[0] ?? "");
        if (row) row.status = event.status;
        break;
      }
      case "summary":
        this.redraw();
        this.write(`${renderEvent(event, verb).join("\n")}\n`);
        return;
    }
    this.redraw();
  }

  /** Redraws with fresh elapsed times (the command calls it on a timer while waits run). */
  redraw(): void {
    const lines = this.frame();
    // Cursor up over the previous frame, clear to the end of the screen, draw the new one.
    const up = this.drawn > 0 ? `\x1b[${this.drawn}F\x1b[J` : "";
    this.write(`${up}${lines.map((l) => `${l}\n`).join("")}`);
    this.drawn = lines.length;
  }

  frame(): string[] {
    const width = Math.max(0, ...[...this.rows.keys()].map((k) => k.length));
    return [...this.rows].map(([key, row]) => {
      const seconds = (((row.endedAt ?? this.now()) - row.startedAt) / 1000).toFixed(1);
      const detail = row.state === "running" ? (row.status ?? "") : (row.note ?? "");
      return `${row.symbol.padStart(3)} ${key.padEnd(width)}  ${row.state.padEnd(7)} ${seconds.padStart(6)}s  ${detail}`.trimEnd();
    });
  }
}
