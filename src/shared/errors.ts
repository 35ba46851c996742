/**
 * The two classes of failure (house style P9). A UserError is a mistake the user can fix (a manifest,
 * a flag, the environment): the CLI prints its message only and exits 1. Anything else is a bug:
 * the CLI prints "internal error" and a stack only with --debug.
 */
export class UserError extends Error {
  override readonly name = "UserError";
  /** `file:line:col` when the mistake comes from a file. */
  readonly location: string | undefined;
  /** Extra lines printed under the message (hints, the next command to run). */
  readonly notes: readonly string[];

  constructor(message: string, options: { location?: string; notes?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.location = options.location;
    this.notes = options.notes ?? [];
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/** The message of anything thrown, for a log line or a reason (a non-Error is stringified). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An unexpected error for a log line: its stack (which starts with its message) when it has one. */
export function errorForLog(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
