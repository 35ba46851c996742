import type { Argv, CommandModule } from "yargs";
import yargs from "yargs";
import { certificateErrorMessage } from "./certificate-error.js";
import { isUserError, UserError } from "./errors.js";
import type { CliIo } from "./io.js";

/** Context every command handler receives besides its parsed arguments. */
export interface CommandContext {
  io: CliIo;
  /** Set by a handler to the process exit code (default 0). */
  exitCode: number;
}

/**
 * A command factory. `defineCommand` keeps each command's own argument types while the registry holds
 * commands of different shapes (yargs' CommandModule is generic in the parsed arguments).
 */
export type CliCommand = (ctx: CommandContext) => RegisteredCommand;

/** A command with its argument types erased: it can only add itself to a parser. */
export interface RegisteredCommand {
  register: (parser: Argv) => Argv;
}

export function defineCommand<Args>(module: CommandModule<object, Args>): RegisteredCommand {
  return { register: (parser) => parser.command(module) };
}

/**
 * One exit point for a yargs CLI (house style P11): parse, run the handler, map failures to exit codes.
 * UserError → message, exit 1; anything else → "internal error … (a bug)", stack only with --debug.
 */
export async function runCli(
  scriptName: string,
  argv: readonly string[],
  io: CliIo,
  commands: readonly CliCommand[],
  configure: (y: Argv) => Argv = (y) => y,
): Promise<number> {
  const ctx: CommandContext = { io, exitCode: 0 };
  const debug = argv.includes("--debug");
  const withCommands = commands.reduce<Argv>((y, command) => command(ctx).register(y), yargs([...argv]));
  const parser = configure(withCommands)
    .scriptName(scriptName)
    .strict()
    .recommendCommands()
    .demandCommand(1, "Name a command; see --help.")
    .option("debug", { type: "boolean", description: "Print stack traces for internal errors", global: true })
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      // yargs re-throws what an option's `coerce` threw (numberOption's range check) as a YError with the
      // same message: that is the user's mistake, said in one line, not a bug.
      if (error?.name === "YError") throw new UserError(error.message);
      throw error ?? new UsageError(message);
    });
  let output = "";
  try {
    await parser.parseAsync([...argv], {}, (_err, _parsed, text) => {
      output = text;
    });
    if (output) io.stdout(`${output}\n`);
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof UsageError) {
      if (output) io.stderr(`${output}\n`);
      io.stderr(`${scriptName}: ${error.message}\n`);
      return 1;
    }
    if (isUserError(error)) {
      const where = error.location ? `${error.location}: ` : "";
      io.stderr(`${where}error: ${error.message}\n`);
      for (const note of error.notes) io.stderr(`  ${note}\n`);
      return 1;
    }
    const untrusted = certificateErrorMessage(error);
    if (untrusted) {
      // A certificate the process does not trust is the network's answer, not a bug: say which and the fix. Checked
      // before the API failure that wraps it, whose generic "did not answer" note would hide the fix.
      io.stderr(`error: ${untrusted}\n`);
      if (debug && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
      return 1;
    }
    if (isApiFailure(error)) {
      // The workspace refused the request (a 4xx with its reason), failed (a 5xx past the retries) or never
      // answered (status 0: a wrong URL, DNS, a refused connection, a proxy): its answer, not a bug of ours.
      io.stderr(`error: ${error.message}\n`);
      const note = apiFailureNote(error.status);
      if (note) io.stderr(`  ${note}\n`);
      if (debug && error.stack) io.stderr(`${error.stack}\n`);
      return 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(
      `internal error: ${message}\nThis is a bug in cml-lab${debug ? "" : "; run again with --debug for the stack"}.\n`,
    );
    if (debug && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    return 1;
  }
}

class UsageError extends Error {}

/**
 * A CML API failure: the client's ApiError, duck-typed so src/shared stays below src/client. Its message names
 * the request, the status and the server's own reason, never a header or key (client/errors.ts).
 */
function isApiFailure(error: unknown): error is Error & { status: number } {
  return error instanceof Error && error.name === "ApiError" && "status" in error && typeof error.status === "number";
}

function apiFailureNote(status: number): string | undefined {
  if (status === 0)
    return "the workspace did not answer: check the target's url (CML_API_URL), the network and any proxy (HTTPS_PROXY)";
  if (status >= 500) return "the workspace failed to answer (after retries); try again later";
  return undefined;
}
