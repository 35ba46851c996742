/**
 * Types the adapters share: the engine's contract (engine/kind.ts, see README.md in this directory) and the wire
 * types of the objects they manage.
 */
import type { Schemas } from "../../client/index.js";
import type { LiveState } from "../engine/kind.js";

export type {
  ApplyContext,
  Draft,
  FieldMap,
  FieldRules,
  KindAdapter,
  LiveObject,
  PlanContext,
  PlanContext as NormaliseContext,
  ReadContext,
} from "../engine/kind.js";

/** A kind's slot in the live state: only its own adapter's `read` writes it, so the type is that read's. */
export function slot<T>(live: LiveState, name: string, empty: T): T {
  return (live[name] as T | undefined) ?? empty;
}

export type Job = Schemas["Job"];
export type Application = Schemas["Application"];
export type Project = Schemas["Project"];
export type Model = Schemas["Model"];
export type ModelBuild = Schemas["ModelBuild"];
export type ModelDeployment = Schemas["ModelDeployment"];
