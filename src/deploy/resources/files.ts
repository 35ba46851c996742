/**
 * File sync. CML uploads never overwrite (a second `a.py` lands as `a(1).py`; openapi/FACTS.md §5), so a changed file is
 * deleted, then uploaded. What we synced is recorded in a small JSON file inside the project itself, which the
 * API round-trips: no local state, and files that left the manifest can be deleted on the next apply.
 * One plan entry per `files:` item (`files.<to>`); its changes are the files, old → new content hash.
 */
import { readFile } from "node:fs/promises";
import { unwrap, uploadProjectFile } from "../../client/index.js";
import { isJsonObject, parseShaped, shapeOf } from "../../shared/json-shape.js";
import type { DesiredState } from "../engine/desired.js";
import { deleteIfPresent, repeatIdempotent } from "../engine/idempotent.js";
import type { LiveState } from "../engine/kind.js";
import { RECORD_DIR, readProjectFileText } from "../engine/live.js";
import type { PlanEntry } from "../engine/types.js";
import type { ResourceKey } from "../manifest/model.js";
import { projectsOf } from "./project.js";
import {
  type ApplyContext,
  type FieldMap,
  type FieldRules,
  type KindAdapter,
  type NormaliseContext,
  slot,
} from "./types.js";

export interface FileRecord {
  version: 1;
  stack: string;
  /** `to` of each files: item → project path → content hash. */
  sets: Record<string, Record<string, string>>;
}

/** The file-sync record read from the project (absent: nothing synced yet, or no project). */
export function fileRecordOf(live: LiveState): FileRecord | undefined {
  return slot<FileRecord | undefined>(live, "files", undefined);
}

/** The files: items that hold a project path (a job's script depends on them). */
export function filesHolding(desired: DesiredState, path: string): ResourceKey[] {
  return [...desired.files.entries()]
    .filter(([, set]) => set.files.has(path))
    .map(([to]): ResourceKey => `files.${to}`);
}

export function fileRecordPath(stack: string): string {
  return `${RECORD_DIR}/${stack}.files.json`;
}

/** The record as the project holds it; a set or hash that is not of its type is skipped, not the whole record. */
const isFileRecordText = shapeOf<{ stack: string; sets: Record<string, unknown> }>({
  type: "object",
  required: ["sets", "stack"],
  properties: { stack: { type: "string" }, sets: { type: "object" } },
});

/** A damaged record is treated as empty: every file is then re-uploaded (delete-before-upload keeps that safe). */
export function parseFileRecord(text: string): FileRecord | undefined {
  const parsed = parseShaped(text, isFileRecordText);
  if (!parsed) return undefined;
  const out: FileRecord = { version: 1, stack: parsed.stack, sets: {} };
  for (const [to, files] of Object.entries(parsed.sets)) {
    if (!isJsonObject(files)) continue;
    out.sets[to] = Object.fromEntries(
      Object.entries(files).filter((e): e is [string, string] => typeof e[1] === "string"),
    );
  }
  return out;
}

export const filesRules: FieldRules = { recreateOn: {}, serverDefaults: {} };

/** Field per file: its content hash. */
export function filesDesiredFields(to: string, ctx: NormaliseContext): FieldMap {
  const set = ctx.desired.files.get(to);
  return Object.fromEntries([...(set?.files.values() ?? [])].map((f) => [f.path, f.hash]));
}

export function filesLiveFields(to: string, ctx: NormaliseContext): FieldMap {
  return { ...(fileRecordOf(ctx.live)?.sets[to] ?? {}) };
}

interface SyncState {
  record: FileRecord;
  /** Record writes are serialised: several files: items finish concurrently. */
  writing: Promise<void>;
  /** Paths this apply has uploaded (or tried to). */
  touched: Set<string>;
}

const syncStates = new WeakMap<ApplyContext, SyncState>();

function syncState(ctx: ApplyContext): SyncState {
  let state = syncStates.get(ctx);
  if (!state) {
    const sets = structuredClone(fileRecordOf(ctx.live)?.sets ?? {});
    state = { record: { version: 1, stack: ctx.stack, sets }, writing: Promise.resolve(), touched: new Set() };
    syncStates.set(ctx, state);
  }
  return state;
}

/** Delete, then upload: CML never overwrites. The pair is repeatable, so a lost answer is simply retried. */
async function replaceFile(ctx: ApplyContext, path: string, content: Uint8Array | string): Promise<void> {
  const touched = syncState(ctx).touched;
  await repeatIdempotent(async () => {
    // A project this apply created holds nothing until we upload it (a race for the project re-plans before any
    // file goes in), so the first upload of a path needs no delete; any repeat does.
    const fresh = projectsOf(ctx.live).length === 0 && !touched.has(path);
    touched.add(path);
    if (!fresh) await deleteFile(ctx, path);
    await uploadProjectFile(ctx.api, ctx.projectId(), path, content);
  }, ctx.signal);
}

async function deleteFile(ctx: ApplyContext, path: string): Promise<void> {
  await deleteIfPresent(() =>
    unwrap(
      ctx.api.DELETE("/api/v2/projects/{project_id}/files/{path}", {
        params: { path: { project_id: ctx.projectId(), path } },
      }),
    ),
  );
}

async function writeRecord(ctx: ApplyContext, to: string, files: Record<string, string> | undefined): Promise<void> {
  const state = syncState(ctx);
  const next = state.writing.then(async () => {
    if (files) state.record.sets[to] = files;
    else delete state.record.sets[to];
    await replaceFile(ctx, fileRecordPath(ctx.stack), `${JSON.stringify(state.record, null, 2)}\n`);
  });
  state.writing = next.catch(() => undefined);
  await next;
}

async function sync(ctx: ApplyContext, entry: PlanEntry): Promise<Record<string, string>> {
  const to = toOf(entry.key);
  const set = ctx.desired.files.get(to);
  if (!set) throw new Error(`bug: ${entry.key} is not in the manifest`);
  const work = entry.changes.map((change) => async () => {
    const file = set.files.get(change.path);
    if (file) await replaceFile(ctx, file.path, await readFile(file.localPath));
    else await deleteFile(ctx, change.path);
  });
  await runBounded(work, 4, ctx.signal);
  await writeRecord(ctx, to, Object.fromEntries([...set.files.values()].map((f) => [f.path, f.hash])));
  return { id: to, files: String(set.files.size) };
}

export const filesAdapter = {
  kind: "files",
  rules: filesRules,
  owns: (key) => key.startsWith("files."),
  insideContainer: true,
  async read(ctx): Promise<FileRecord | undefined> {
    if (!ctx.manifest || !ctx.projectId) return undefined;
    const text = await readProjectFileText(ctx.api, ctx.projectId, fileRecordPath(ctx.manifest.name));
    return text === undefined ? undefined : parseFileRecord(text);
  },
  *plan(ctx) {
    for (const to of ctx.desired.files.keys()) {
      const recorded = fileRecordOf(ctx.live)?.sets[to];
      yield {
        key: `files.${to}`,
        dependsOn: ["project"],
        want: filesDesiredFields(to, ctx),
        ...(recorded ? { have: filesLiveFields(to, ctx), id: to } : {}),
        alwaysListChanges: true,
      };
    }
  },
  existing: (ctx) =>
    Object.keys(fileRecordOf(ctx.live)?.sets ?? {}).map((to) => ({
      key: `files.${to}` as const,
      id: to,
      owner: ctx.stack,
      preventDestroy: false,
    })),
  // Files have no outputs of their own (apply knows a synced set by its id, `to`).
  outputs: () => undefined,
  create: sync,
  update: sync,
  async delete(ctx, entry) {
    const to = toOf(entry.key);
    const recorded = syncState(ctx).record.sets[to] ?? {};
    await runBounded(
      Object.keys(recorded).map((path) => () => deleteFile(ctx, path)),
      4,
      ctx.signal,
    );
    await writeRecord(ctx, to, undefined);
  },
} satisfies KindAdapter;

function toOf(key: ResourceKey): string {
  return key.slice("files.".length);
}

async function runBounded(tasks: (() => Promise<void>)[], limit: number, signal: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      signal.throwIfAborted();
      const task = tasks[next++];
      if (task) await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
