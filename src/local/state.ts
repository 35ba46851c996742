/**
 * Everything the platform knows, as CML wire objects plus the little it needs besides (which project an
 * application belongs to, its ports, the pids of running workloads). Persisted as one JSON file written
 * atomically (temp file + rename), so a crash leaves either the old or the new state, never half of one.
 * It holds every environment value, so it is written 0600 (in a 0700 data directory).
 */
import { readdir, readFile, rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { writeFileAtomic } from "../shared/atomic-write.js";
import { shapeOf } from "../shared/json-shape.js";
import { checkState, type Quarantined } from "./state-check.js";

import { emptyState, type State } from "./state-shape.js";

export * from "./state-shape.js";

export class StateStore {
  private writing: Promise<void> = Promise.resolve();
  private pending = false;
  private stopped = false;

  private constructor(
    readonly file: string,
    readonly state: State,
    /** What was wrong with the stored state and what was done about it, one sentence each. */
    readonly findings: readonly string[],
  ) {}

  /**
   * Reads the state; never throws on what is in the file. With `repair` (the server), what cannot be used is
   * moved out of the way and said so: a state.json that does not parse is kept as `state.json.corrupt-<time>`,
   * objects that cannot be used go to `quarantine.json`, and unfinished writes (`state.json.*.tmp`) are removed.
   * Without it (readers such as `local logs`) nothing on disk changes.
   */
  static async open(dataDir: string, options: { repair?: boolean } = {}): Promise<StateStore> {
    const file = join(dataDir, "state.json");
    const findings: string[] = [];
    if (options.repair) {
      const tmp = (await readdir(dataDir).catch(() => [])).filter((name) => /^state\.json\..*\.tmp$/.test(name));
      for (const name of tmp) await rm(join(dataDir, name), { force: true });
      if (tmp.length > 0) findings.push(`removed ${tmp.length} unfinished state write(s): ${tmp.join(", ")}`);
    }
    let text: string | undefined;
    try {
      text = await readFile(file, "utf8");
    } catch {
      text = undefined;
    }
    if (text === undefined) return new StateStore(file, emptyState(), findings);
    let parsed: unknown;
    let why: string | undefined;
    try {
      // State written before unset timestamps were left out holds "" for them, which is not a date-time: drop those.
      parsed = JSON.parse(text, (key, value) => (key.endsWith("_at") && value === "" ? undefined : value));
      if (!isState(parsed)) why = "it is not a version 1 state object";
    } catch (error) {
      why = error instanceof Error ? error.message : String(error);
    }
    if (why !== undefined || !isState(parsed)) {
      let kept = "";
      if (options.repair) {
        const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
        await rename(file, aside);
        kept = `; kept as ${basename(aside)}`;
      }
      findings.push(`state.json could not be used (${why ?? "unknown"})${kept}; starting with an empty state`);
      return new StateStore(file, emptyState(), findings);
    }
    const checked = checkState(parsed);
    findings.push(...checked.findings);
    if (checked.quarantined.length > 0) {
      for (const q of checked.quarantined) findings.push(`set aside ${q.kind} ${q.id}: ${q.reason}`);
      if (options.repair) {
        await appendQuarantine(join(dataDir, QUARANTINE_FILE), checked.quarantined);
        findings.push(`${checked.quarantined.length} object(s) moved to ${QUARANTINE_FILE}`);
      }
    }
    return new StateStore(file, checked.state, findings);
  }

  /**
   * Writes the current state; calls made while a write is in flight coalesce into one more write. A failed write
   * does not poison the chain (the next save tries again), and after `stop()` saves are no-ops: timers of
   * workloads that end during shutdown must not write into a data directory that may already be gone.
   */
  save(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.pending) return this.writing;
    this.pending = true;
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        this.pending = false;
        if (this.stopped) return;
        await writeFileAtomic(this.file, `${JSON.stringify(this.state, null, 1)}\n`, 0o600);
      });
    return this.writing;
  }

  /** The last save (awaited by close) has happened: later changes are not persisted. */
  stop(): void {
    this.stopped = true;
  }
}

/**
 * A version 1 state object. Its collections are checked entry by entry (state-check.ts), so one bad object is set
 * aside with its reason instead of the whole file.
 */
const isState = shapeOf<State & Record<string, unknown>>({
  type: "object",
  required: ["version"],
  properties: { version: { const: 1 } },
});
/** quarantine.json is a list; anything else there is replaced by the new entries. */
const isQuarantineList = shapeOf<unknown[]>({ type: "array" });

/** Objects set aside at start, kept (never deleted) so nothing the user made is lost; 0600 like the state. */
export const QUARANTINE_FILE = "quarantine.json";

async function appendQuarantine(file: string, items: readonly Quarantined[]): Promise<void> {
  let earlier: unknown[] = [];
  try {
    const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
    if (isQuarantineList(parsed)) earlier = parsed;
  } catch {
    earlier = [];
  }
  const at = new Date().toISOString();
  await writeFileAtomic(file, `${JSON.stringify([...earlier, ...items.map((q) => ({ at, ...q }))], null, 1)}\n`, 0o600);
}
