/**
 * The options both CLIs share, declared once: a manifest command's `[manifest]`, `--target` and `--var`; a
 * connection's `--target`; and `--data-dir` in its two meanings (the local platform's directory, or where ingest
 * writes its stores). The help texts differ where the commands' documented --help (docs/cli.md) differs; each is
 * a named variant here rather than a copy in a command file. Reading them back is here too (`manifestRequest`),
 * so a command cannot declare an option one way and read it another.
 */
import { resolve } from "node:path";
import type { Argv } from "yargs";
import { UserError } from "./errors.js";
import type { CliIo } from "./io.js";

export const DEFAULT_MANIFEST = "manifests/lab.yaml";
/** Where `npm start` and the deploy commands keep the local platform, relative to the working directory. */
export const DEFAULT_LOCAL_DATA_DIR = ".cml-local";

const MANIFEST_TARGET = "target (default: the manifest's default target)";
const CONNECTION_TARGET = "`local` for the local platform; default: CML_API_URL if set, else local";
const PLATFORM_DIR = `local platform data directory (default ${DEFAULT_LOCAL_DATA_DIR})`;

/**
 * `[manifest]`, `--target` and `--var`, for the commands that load a manifest (declare after any positional
 * that comes before the manifest). `targetDescribe` is validate's wording ("target to resolve …").
 */
export const manifestOptions = <T>(y: Argv<T>, targetDescribe = MANIFEST_TARGET) =>
  y
    .positional("manifest", { type: "string", default: DEFAULT_MANIFEST, describe: "manifest file" })
    .option("target", { type: "string", describe: targetDescribe })
    .option("var", { type: "string", array: true, describe: "name=value; sets a manifest variable (repeatable)" });

/** `--target` and `--data-dir` for the commands that talk to a platform without a manifest (api, import, app). */
export const connectionOptions = <T>(y: Argv<T>) =>
  platformDirOption(y.option("target", { type: "string", describe: CONNECTION_TARGET }));

/** `--data-dir`: the local platform's directory (server.json, state, project files, logs). */
export const platformDirOption = <T>(y: Argv<T>, describe = PLATFORM_DIR) =>
  y.option("data-dir", { type: "string", describe });

/** `--data-dir` of the local platform with its default shown in --help (`cml-lab start|stop`). */
export const platformDirOptionWithDefault = <T>(y: Argv<T>, describe: string) =>
  y.option("data-dir", { type: "string", default: DEFAULT_LOCAL_DATA_DIR, describe });

/** `--data-dir`: where ingest writes (and query/app read) the page cache and stores; resolved by the workload. */
export const storeDirOption = <T>(y: Argv<T>, describe: string) => y.option("data-dir", { type: "string", describe });

/** `--data-dir` and `--platform-dir` of the commands that read the lab's stores (`cml-lab query|app`). */
export const storeReaderOptions = <T>(y: Argv<T>) =>
  storeDirOption(y, "Where ingest wrote its stores (default $CML_LAB_DATA or ./data)").option("platform-dir", {
    type: "string",
    describe: `The local platform whose running lab's store to use when the data dir has none (default ${DEFAULT_LOCAL_DATA_DIR})`,
  });

/** The local platform's directory a command means: `--data-dir`, else `.cml-local`, from the working directory. */
export function platformDir(io: Pick<CliIo, "cwd">, given: string | undefined): string {
  return resolve(io.cwd, given ?? DEFAULT_LOCAL_DATA_DIR);
}

export interface ManifestArgs {
  manifest: string;
  target?: string | undefined;
  var?: string[] | undefined;
  "data-dir"?: string | undefined;
}

/** A manifest command's options, read back as what the deploy library's openStack/openProject take. */
export function manifestRequest(args: ManifestArgs, io: Pick<CliIo, "env" | "cwd">) {
  return {
    manifest: args.manifest,
    ...(args.target !== undefined ? { target: args.target } : {}),
    vars: parseVars(args.var ?? []),
    env: io.env,
    cwd: io.cwd,
    ...(args["data-dir"] !== undefined ? { dataDir: args["data-dir"] } : {}),
  };
}

/** `--var name=value` pairs; the value may contain `=`. */
export function parseVars(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UserError(`--var must look like name=value, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** The range a numeric option accepts. */
export interface NumberRange {
  min: number;
  max?: number;
  /** Whole numbers only (counts, ports). */
  integer?: boolean;
}

/**
 * A numeric option that refuses what yargs lets through: `--lock-timeout abc` parsed to NaN, and a NaN deadline is
 * never reached, so a wait meant to be bounded never ended; `--timeout -5` or `--port 70000` reached the code as
 * given. The value is checked as it is parsed (yargs `coerce`), so the handler sees only numbers in range.
 */
export function numberOption<S extends { describe: string; default?: number }>(
  name: string,
  range: NumberRange,
  spec: S,
): S & { type: "number"; coerce: (value: unknown) => number } {
  const { min, max, integer = false } = range;
  const what = `${integer ? "a whole number" : "a number"} ${max === undefined ? `of at least ${min}` : `from ${min} to ${max}`}`;
  return {
    type: "number",
    ...spec,
    coerce: (value: unknown) => {
      // Repeated (`--k 1 --k 2`) arrives as an array: the last one wins, as yargs does for other types.
      const n = Array.isArray(value) ? value.at(-1) : value;
      if (
        typeof n !== "number" ||
        !Number.isFinite(n) ||
        n < min ||
        (max !== undefined && n > max) ||
        (integer && !Number.isInteger(n))
      )
        throw new UserError(`--${name} must be ${what}, got ${String(n)}`);
      return n;
    },
  };
}

/** Upper bounds of waits in seconds: beyond them a value is a typo, not a plan (and timers past 2^31 ms misfire). */
export const DAY_S = 86_400;
export const WEEK_S = 7 * DAY_S;

/** API requests in flight at once (apply, destroy). */
export const PARALLELISM_RANGE: NumberRange = { min: 1, max: 64, integer: true };

/** A TCP port to listen on; 0 asks the system for any free one. */
export const PORT_RANGE: NumberRange = { min: 0, max: 65_535, integer: true };

/** `--lock-timeout` of apply and destroy (0: fail at once when another apply holds the lock). */
export const LOCK_TIMEOUT = numberOption(
  "lock-timeout",
  { min: 0, max: DAY_S },
  { default: 300, describe: "seconds to wait for another apply" },
);
