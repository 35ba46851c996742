/**
 * `deploy apply [manifest]`: make the workspace match the manifest. Shows the plan, asks before deleting or
 * recreating anything (TTY) or needs --auto-approve (no TTY), takes the stack lock, executes, summarises.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { UserError } from "../../shared/errors.js";
import type { CommandContext } from "../../shared/run-cli.js";
import { type CliCommand, defineCommand } from "../../shared/run-cli.js";
import { isDestructive } from "../engine/actions.js";
import { apply } from "../engine/apply.js";
import type { ApplyEvent } from "../engine/events.js";
import { LiveList } from "../engine/live-list.js";
import { describeHolder } from "../engine/lock.js";
import { selectEntries } from "../engine/plan.js";
import { settleNewProject } from "../engine/project-race.js";
import { renderConfirmation, renderEvent, renderPlan, useColor } from "../engine/render.js";
import { appUrlFor, openSession, type Session, type SessionRequest } from "../engine/session.js";
import type { Plan } from "../engine/types.js";
import { DEFAULT_MANIFEST, parseVars } from "./validate.js";

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

/** Shared by apply and destroy: plan under the lock, confirm, execute, summarise; sets the exit code. */
export async function executeCommand(
  ctx: CommandContext,
  args: ExecuteArgs,
  destroy: boolean,
  client?: SessionRequest["client"],
): Promise<void> {
  const io = ctx.io;
  const emitJson = (event: object) => io.stdout(`${JSON.stringify(event)}\n`);
  const request: SessionRequest = {
    manifest: args.manifest,
    ...(args.target !== undefined ? { target: args.target } : {}),
    vars: parseVars(args.var ?? []),
    io,
    ...(args["data-dir"] !== undefined ? { dataDir: args["data-dir"] } : {}),
    adopt: args.adopt,
    destroy,
    client: { ...client, maxConcurrentRequests: parallelism(args.parallelism) },
    lock: {
      timeoutMs: args["lock-timeout"] * 1000,
      onWait: (holder) => {
        if (args.json) emitJson({ type: "lock.wait", holder: describeHolder(holder) });
        else io.stderr(`waiting for the stack lock (${describeHolder(holder)})\n`);
      },
    },
  };
  // A plan goes out of date only in a race for a new project; each round settles it, so two rounds suffice.
  for (let round = 1; ; round++) {
    const session = await openSession(request);
    let replan: string | undefined;
    try {
      replan = await run(ctx, args, session, destroy, emitJson);
    } finally {
      // What was applied stands; a lock that could not be released is worth a warning, not a failure.
      await session.lock?.release().catch((error: unknown) => {
        io.stderr(`warning: ${error instanceof Error ? error.message : String(error)}\n`);
        if (error instanceof UserError) for (const note of error.notes) io.stderr(`  ${note}\n`);
      });
    }
    if (!replan) return;
    if (round >= 3) throw new Error(`bug: the plan went out of date ${round} times in a row (${replan})`);
    if (args.json) emitJson({ type: "replan", reason: replan });
    else io.stderr(`${replan}; planning again\n`);
  }
}

async function run(
  ctx: CommandContext,
  args: ExecuteArgs,
  session: Session,
  destroy: boolean,
  emitJson: (event: object) => void,
): Promise<string | undefined> {
  const io = ctx.io;
  let p = session.plan;
  if (p.conflicts.length > 0)
    throw new UserError(`cannot ${destroy ? "destroy" : "apply"}: ${p.conflicts.length} conflict(s)`, {
      notes: p.conflicts,
    });
  if (args.plan) await checkSavedPlan(resolve(io.cwd, args.plan), session.plan);
  if (args.select?.length) {
    const selected = selectEntries(session.plan, args.select);
    if (selected.unknown.length > 0)
      throw new UserError(`--select names no resource in the plan: ${selected.unknown.join(", ")}`, {
        notes: [`resources: ${session.plan.entries.map((e) => e.key).join(", ")}`],
      });
    p = selected.plan;
  }
  if (args.json) emitJson({ type: "plan", plan: p });
  else io.stdout(`${renderPlan(p, { color: useColor(io.isTTY, io.env) }).join("\n")}\n`);
  const changes = p.entries.filter((e) => e.action !== "skip");
  if (changes.length === 0) {
    if (!args.json) io.stdout("Nothing to do.\n");
    return;
  }
  const destructive = p.entries.filter((e) => isDestructive(e.action));
  if (destructive.length > 0 && !args["auto-approve"]) {
    const what = destructive.map((e) => `${e.action} ${e.key}`).join(", ");
    if (io.isTTY && io.confirm) {
      const { lines, question } = renderConfirmation(p, destroy);
      io.stdout(`\n${lines.join("\n")}\n`);
      if (!(await io.confirm(question))) throw new UserError("cancelled; nothing was changed");
    } else
      throw new UserError(`the plan would ${what}; without a terminal to confirm, pass --auto-approve`, {
        notes: ["review the plan above, then run again with --auto-approve"],
      });
  }
  const verb = destroy ? "Destroy" : "Apply";
  // A terminal gets a live list with elapsed times; a pipe or CI log gets plain lines.
  const live = io.isTTY && !args.json ? new LiveList((text) => io.stdout(text)) : undefined;
  const ticker = setInterval(() => live?.redraw(), 1_000);
  const summary = await apply(p, {
    api: session.api,
    desired: session.desired,
    live: session.live,
    adopt: args.adopt,
    waitTimeoutMs: args["wait-timeout"] * 1000,
    appUrl: appUrlFor(session.api, session.connection.baseUrl),
    onProjectCreated: (id) => projectCreated(session, id),
    onEvent: (event: ApplyEvent) => {
      if (args.json) emitJson(event);
      else if (live) live.update(event, verb);
      else for (const line of renderEvent(event, verb)) io.stdout(`${line}\n`);
    },
  }).finally(() => clearInterval(ticker));
  if (summary.replan) return summary.replan;
  if (summary.counts.failed > 0 || summary.counts.skipped > 0) ctx.exitCode = 1;
  else if (args["detailed-exitcode"]) ctx.exitCode = 2;
}

/**
 * The project this apply just created: keep it only if it is the one copy (project-race.ts), then lock it before
 * anything goes in. Returns why the plan is out of date, if it is.
 */
async function projectCreated(session: Session, projectId: string): Promise<string | undefined> {
  const name = session.manifest.project.name;
  if (!(await settleNewProject(session.api, session.manifest.name, name, projectId)))
    return `another apply created project "${name}" at the same moment; this one deleted its copy (${projectId})`;
  const extended = await session.lock?.extendTo(projectId);
  if (extended?.waited) return `another apply took over project "${name}" while it was being created`;
  // Another machine may have locked, filled and released the project between its creation and our lock.
  const fresh = await session.planAgain();
  const rest = (p: Plan) =>
    JSON.stringify(p.entries.filter((e) => e.key !== "project").map((e) => [e.key, e.action, e.changes]));
  return rest(fresh) === rest(session.plan)
    ? undefined
    : `another apply filled project "${name}" while it was being created`;
}

function parallelism(value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new UserError(`--parallelism must be a whole number of at least 1, got ${value}`);
  return value;
}

/** A saved plan runs only if the workspace (and manifest) still produce the same plan. */
async function checkSavedPlan(file: string, current: Plan): Promise<void> {
  let saved: unknown;
  try {
    saved = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new UserError(`cannot read the saved plan ${file}: ${error instanceof Error ? error.message : error}`);
  }
  if (typeof saved !== "object" || saved === null || !("version" in saved) || saved.version !== 1)
    throw new UserError(`${file} is not a version 1 plan (make one with \`deploy plan --out\`)`);
  if (!("fingerprint" in saved) || saved.fingerprint !== current.fingerprint) {
    const before = new Map<string, string>();
    if ("entries" in saved && Array.isArray(saved.entries))
      for (const e of saved.entries)
        if (typeof e === "object" && e !== null && "key" in e && "action" in e)
          before.set(String(e.key), String(e.action));
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
      y
        .positional("manifest", { type: "string", default: DEFAULT_MANIFEST, describe: "manifest file" })
        .option("target", { type: "string", describe: "target (default: the manifest's default target)" })
        .option("var", { type: "string", array: true, describe: "name=value; sets a manifest variable (repeatable)" })
        .option("auto-approve", { type: "boolean", default: false, describe: "delete/recreate without asking" })
        .option("plan", { type: "string", describe: "apply a plan saved by `plan --out` (refused if stale)" })
        .option("select", {
          type: "string",
          array: true,
          describe: "only these resources (e.g. jobs.scrape) and what they depend on (repeatable)",
        })
        .option("parallelism", {
          type: "number",
          default: 8,
          describe: "API requests in flight at once (waiting for an app or build holds none)",
        })
        .option("json", { type: "boolean", default: false, describe: "NDJSON events on stdout" })
        .option("detailed-exitcode", { type: "boolean", default: false, describe: "exit 2 when something changed" })
        .option("adopt", { type: "boolean", default: false, describe: "manage existing objects that lack our marker" })
        .option("lock-timeout", { type: "number", default: 300, describe: "seconds to wait for another apply" })
        .option("wait-timeout", { type: "number", default: 600, describe: "seconds per wait (start, build, deploy)" })
        .option("data-dir", { type: "string", describe: "local platform data directory (default .cml-local)" })
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
