/**
 * `deploy apply [manifest]`: make the workspace match the manifest. Shows the plan, asks before deleting or
 * recreating anything (TTY) or needs --auto-approve (no TTY), takes the stack lock, executes, summarises.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  DAY_S,
  LOCK_TIMEOUT,
  manifestOptions,
  manifestRequest,
  numberOption,
  PARALLELISM_RANGE,
  platformDirOption,
} from "../../shared/cli-options.js";
import { UserError } from "../../shared/errors.js";
import { shapeOf } from "../../shared/json-shape.js";
import type { CommandContext } from "../../shared/run-cli.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { LiveList } from "../engine/live-list.js";
import { renderConfirmation, renderEvent, renderPlan, useColor } from "../engine/render.js";
import type { Plan } from "../engine/types.js";
import { applyStack, type DeployEvent } from "../operations/apply-stack.js";
import { openStack, type StackOptions } from "../session.js";
import { selectEntries } from "../stack.js";

export interface ExecuteArgs {
  manifest: string;
  target?: string;
  var?: string[];
  "auto-approve": boolean;
  parallelism: number;
  json: boolean;
  "detailed-exitcode": boolean;
  adopt: boolean;
  "lock-timeout": number;
  "wait-timeout": number;
  "data-dir"?: string;
  plan?: string;
  select?: string[];
}

/** Shared by apply and destroy: the library's applyStack, rendered; sets the exit code. */
export async function executeCommand(
  ctx: CommandContext,
  args: ExecuteArgs,
  destroy: boolean,
  client?: StackOptions["client"],
): Promise<void> {
  const io = ctx.io;
  const emitJson = (event: object) => io.stdout(`${JSON.stringify(event)}\n`);
  // A saved plan's secret fingerprints are keyed by its own salt: plan with that salt to compare with it.
  const planSalt = args.plan ? await savedPlanSalt(resolve(io.cwd, args.plan)) : undefined;
  const verb = destroy ? "Destroy" : "Apply";
  // A terminal gets a live list with elapsed times; a pipe or CI log gets plain lines.
  const live = io.isTTY && !args.json ? new LiveList((text) => io.stdout(text)) : undefined;
  let ticker: ReturnType<typeof setInterval> | undefined;
  let hinted = false;
  const render = (event: DeployEvent) => {
    if (event.type === "warning") {
      io.stderr(`warning: ${event.message}\n`);
      for (const note of event.notes) io.stderr(`  ${note}\n`);
    } else if (args.json) emitJson(event);
    else if (event.type === "lock.wait") {
      io.stderr(`waiting for the stack lock (${event.holder})\n`);
      // How to break it by hand, once: the wait repeats every poll.
      if (!hinted) io.stderr(`  ${event.hint}\n`);
      hinted = true;
    } else if (event.type === "replan") io.stderr(`${event.reason}; planning again\n`);
    else if (live) {
      // Redraw while waits run, so elapsed times move.
      ticker ??= setInterval(() => live.redraw(), 1_000);
      live.update(event, verb);
    } else for (const line of renderEvent(event, verb)) io.stdout(`${line}\n`);
  };
  let reviewed: Plan | undefined;
  const review = async (planned: Plan): Promise<Plan> => {
    let p = planned;
    if (args.plan) await checkSavedPlan(resolve(io.cwd, args.plan), planned);
    if (args.select?.length) {
      const selected = selectEntries(planned, args.select);
      if (selected.unknown.length > 0)
        throw new UserError(`--select names no resource in the plan: ${selected.unknown.join(", ")}`, {
          notes: [`resources: ${planned.entries.map((e) => e.key).join(", ")}`],
        });
      p = selected.plan;
    }
    if (args.json) emitJson({ type: "plan", plan: p });
    else io.stdout(`${renderPlan(p, { color: useColor(io.isTTY, io.env) }).join("\n")}\n`);
    if (!args.json && p.entries.every((e) => e.action === "skip")) io.stdout("Nothing to do.\n");
    reviewed = p;
    return p;
  };
  const stack = await openStack({
    ...manifestRequest(args, io),
    client: { ...client, maxConcurrentRequests: args.parallelism },
  });
  const { summary } = await applyStack(stack, {
    adopt: args.adopt,
    destroy,
    lockTimeoutMs: args["lock-timeout"] * 1000,
    waitTimeoutMs: args["wait-timeout"] * 1000,
    autoApprove: args["auto-approve"],
    ...(planSalt ? { planSalt } : {}),
    ...(io.isTTY && io.confirm
      ? { confirm: (question: string) => confirmOnTerminal(io, reviewed, destroy, question) }
      : {}),
    review,
    onEvent: render,
  }).finally(() => clearInterval(ticker));
  if (!summary) return;
  if (summary.counts.failed > 0 || summary.counts.skipped > 0) ctx.exitCode = 1;
  else if (args["detailed-exitcode"]) ctx.exitCode = 2;
}

/** Terraform's prompt: what goes (deleted or recreated), then a y/N question whose default is no. */
async function confirmOnTerminal(
  io: CommandContext["io"],
  plan: Plan | undefined,
  destroy: boolean,
  fallback: string,
): Promise<boolean> {
  if (!io.confirm) return false;
  if (!plan) return io.confirm(fallback);
  const { lines, question } = renderConfirmation(plan, destroy);
  io.stdout(`\n${lines.join("\n")}\n`);
  return io.confirm(question);
}

/** A saved plan (`plan --out`) is a file the user hands back: these are the parts apply reads before trusting it. */
const hasSalt = shapeOf<{ salt: string }>({
  type: "object",
  required: ["salt"],
  properties: { salt: { type: "string", pattern: "^[0-9a-f]{32}$" } },
});
const isPlanV1 = shapeOf<{ version: 1; fingerprint?: unknown }>({
  type: "object",
  required: ["version"],
  properties: { version: { const: 1 } },
});
const hasEntries = shapeOf<{ entries: unknown[] }>({
  type: "object",
  required: ["entries"],
  properties: { entries: { type: "array" } },
});
/** A stale plan's message lists the saved entries that name a key and an action; others are skipped. */
const isListedEntry = shapeOf<{ key: unknown; action: unknown }>({
  type: "object",
  required: ["key", "action"],
  properties: { key: {}, action: {} },
});

/** The salt stored in a saved plan, if it has a well-formed one (checkSavedPlan reports every other problem). */
async function savedPlanSalt(file: string): Promise<string | undefined> {
  try {
    const saved: unknown = JSON.parse(await readFile(file, "utf8"));
    return hasSalt(saved) ? saved.salt : undefined;
  } catch {
    return undefined;
  }
}

/** A saved plan runs only if the workspace (and manifest) still produce the same plan. */
async function checkSavedPlan(file: string, current: Plan): Promise<void> {
  let saved: unknown;
  try {
    saved = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new UserError(`cannot read the saved plan ${file}: ${error instanceof Error ? error.message : error}`);
  }
  if (!isPlanV1(saved)) throw new UserError(`${file} is not a version 1 plan (make one with \`deploy plan --out\`)`);
  if (!("fingerprint" in saved) || saved.fingerprint !== current.fingerprint) {
    const before = new Map<string, string>();
    if (hasEntries(saved))
      for (const e of saved.entries) if (isListedEntry(e)) before.set(String(e.key), String(e.action));
    const differences = current.entries
      .filter((e) => before.get(e.key) !== e.action)
      .map((e) => `${e.key}: ${before.get(e.key) ?? "(absent)"} → ${e.action}`);
    throw new UserError(`the saved plan ${file} is stale: the workspace or manifest changed since it was made`, {
      notes: [...(differences.length ? differences : ["field values differ"]), "run `deploy plan --out` again"],
    });
  }
}

export const applyCommand: CliCommand = (ctx) =>
  defineCommand({
    command: "apply [manifest]",
    describe: "Make the workspace match the manifest (creates, updates, recreates, prunes)",
    builder: (y) =>
      platformDirOption(
        manifestOptions(y)
          .option("auto-approve", { type: "boolean", default: false, describe: "delete/recreate without asking" })
          .option("plan", { type: "string", describe: "apply a plan saved by `plan --out` (refused if stale)" })
          .option("select", {
            type: "string",
            array: true,
            describe: "only these resources (e.g. jobs.scrape) and what they depend on (repeatable)",
          })
          .option(
            "parallelism",
            numberOption("parallelism", PARALLELISM_RANGE, {
              default: 8,
              describe: "API requests in flight at once (waiting for an app or build holds none)",
            }),
          )
          .option("json", { type: "boolean", default: false, describe: "NDJSON events on stdout" })
          .option("detailed-exitcode", { type: "boolean", default: false, describe: "exit 2 when something changed" })
          .option("adopt", {
            type: "boolean",
            default: false,
            describe: "manage existing objects that lack our marker",
          })
          .option("lock-timeout", LOCK_TIMEOUT)
          .option(
            "wait-timeout",
            numberOption(
              "wait-timeout",
              { min: 1, max: DAY_S },
              {
                default: 600,
                describe: "seconds per wait (start, build, deploy, job run)",
              },
            ),
          ),
      )
        .example("$0 apply manifests/lab.yaml --target local", "create the lab on the local platform")
        .example(
          "$0 plan manifests/lab.yaml --out lab.plan && $0 apply --plan lab.plan",
          "apply exactly a reviewed plan",
        )
        .example("$0 apply --select jobs.scrape --auto-approve", "only the scrape job and what it depends on")
        .epilog(
          "Exit codes: 0 converged (no changes with --detailed-exitcode); 1 error or failure; 2 changes made (--detailed-exitcode).",
        ),
    handler: (args) => executeCommand(ctx, args, false),
  });
