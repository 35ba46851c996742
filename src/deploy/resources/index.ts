/**
 * The kinds this package manages, in planning order, keyed by their slot in the live state. Adding a kind: one
 * adapter file here and one line below (README.md in this directory).
 */
import type { KindRegistry, ReadContext } from "../engine/kind.js";
import { applicationAdapter } from "./application.js";
import { filesAdapter } from "./files.js";
import { jobAdapter } from "./job.js";
import { buildAdapter, deploymentAdapter, modelAdapter } from "./model.js";
import { projectAdapter } from "./project.js";

export const kinds = {
  projects: projectAdapter,
  files: filesAdapter,
  jobs: jobAdapter,
  applications: applicationAdapter,
  models: modelAdapter,
  builds: buildAdapter,
  deployments: deploymentAdapter,
} as const satisfies KindRegistry;

type Slots = {
  [K in keyof typeof kinds]: (typeof kinds)[K] extends { read(ctx: ReadContext): Promise<infer T> } ? T : undefined;
};

/** The live state these kinds read, typed: each kind's slot as its adapter's `read` returns it. */
export type LiveState = { -readonly [K in keyof Slots as undefined extends Slots[K] ? never : K]: Slots[K] } & {
  -readonly [K in keyof Slots as undefined extends Slots[K] ? K : never]?: Exclude<Slots[K], undefined>;
};

/** A workspace without the stack's project. */
export const EMPTY_LIVE: LiveState = { projects: [], jobs: [], applications: [], models: [] };
