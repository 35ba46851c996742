/**
 * Cron schedules, run as CML runs them (openapi/FACTS.md §5 "Jobs"): a job with a `schedule` (type `cron`) that is not
 * paused gets a run at each time the expression names, in the job's `timezone` (CML's default is
 * America/Los_Angeles). A time that finds the job's previous run still active is skipped, since a job has at most
 * one active run. Times missed while the platform was down are not caught up; the next one after a start counts.
 */
import { CronExpressionParser } from "cron-parser";
import type { PlatformContext } from "./context.js";
import type { RunEngine } from "./runs.js";

export const DEFAULT_TIMEZONE = "America/Los_Angeles";

/** How often due schedules are looked for; cron's resolution is a minute, so a second is prompt enough. */
const TICK_MS = 1000;

/** What is wrong with a schedule, or undefined when it is a cron expression CML's format allows. */
export function scheduleProblem(schedule: string, timezone: string): string | undefined {
  const fields = schedule.trim().split(/\s+/);
  // CML's schedules are standard five-field crontab lines (minute hour day-of-month month day-of-week); a
  // sixth (seconds) field, which the parser would take, is not part of that format.
  if (!schedule.trim().startsWith("@") && fields.length !== 5) {
    return `schedule '${schedule}' must have five fields (minute hour day-of-month month day-of-week)`;
  }
  try {
    nextFireTime(schedule, timezone, new Date());
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return `schedule '${schedule}' (timezone ${timezone || DEFAULT_TIMEZONE}) is not valid: ${why}`;
  }
  return undefined;
}

/** The first time after `after` that the schedule names, in its timezone. */
export function nextFireTime(schedule: string, timezone: string, after: Date): Date {
  const expression = CronExpressionParser.parse(schedule, {
    currentDate: after,
    tz: timezone || DEFAULT_TIMEZONE,
    strict: false,
  });
  const next = expression.next().toDate();
  if (Number.isNaN(next.getTime())) throw new Error(`unknown timezone ${timezone}`);
  return next;
}

interface Due {
  /** schedule + timezone the time was computed from: a PATCH that changes them recomputes it. */
  key: string;
  at: number;
}

export class Scheduler {
  private readonly due = new Map<string, Due>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: PlatformContext,
    private readonly runs: RunEngine,
    /** The time schedules are evaluated at (tests run it faster than the wall clock). */
    private readonly clock: () => Date = () => new Date(),
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Starts a run of every scheduled job whose time has come, and works out each one's next time. */
  tick(): void {
    const now = this.clock();
    const scheduled = new Set<string>();
    for (const record of Object.values(this.ctx.state.jobs)) {
      const job = record.job;
      const id = job.id ?? "";
      if (job.type !== "cron" || !job.schedule || job.paused) continue;
      scheduled.add(id);
      const key = `${job.schedule}\n${job.timezone ?? ""}`;
      const entry = this.due.get(id);
      if (!entry || entry.key !== key) {
        this.due.set(id, { key, at: this.next(job.schedule, job.timezone ?? "", now, job.name) });
        continue;
      }
      if (now.getTime() < entry.at) continue;
      entry.at = this.next(job.schedule, job.timezone ?? "", now, job.name);
      try {
        this.runs.create(record);
        void this.ctx.save();
      } catch (error) {
        this.ctx.log(
          `schedule of job ${job.name}: run skipped: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    for (const id of this.due.keys()) if (!scheduled.has(id)) this.due.delete(id);
  }

  private next(schedule: string, timezone: string, after: Date, name: string | undefined): number {
    try {
      return nextFireTime(schedule, timezone, after).getTime();
    } catch (error) {
      // Validated on create/update; only a state file edited by hand gets here. Never due, logged once.
      this.ctx.log(`schedule of job ${name} is not valid, not run: ${error instanceof Error ? error.message : error}`);
      return Number.POSITIVE_INFINITY;
    }
  }
}
