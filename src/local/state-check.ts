/**
 * What a server finds in state.json before it trusts it. The file may come from an older server that stored
 * values no process can take (a NUL byte in an environment value used to be accepted), or have been edited by
 * hand. Objects that are malformed or hold such values are set aside (quarantined) with a reason, together with
 * the objects that depend on them, so the platform starts with everything else instead of failing to start.
 */
import { envFromWire } from "../client/index.js";
import { environmentProblems, hasControlCharacters, nameProblem, processValueProblem } from "./process-values.js";
import { isRecord } from "./spec.js";
import { emptyState, type State } from "./state-shape.js";

export interface Quarantined {
  kind: keyof Omit<State, "version" | "pids">;
  id: string;
  reason: string;
  value: unknown;
}

export interface CheckedState {
  state: State;
  quarantined: Quarantined[];
  /** Plain sentences about anything else that was dropped. */
  findings: string[];
}

type Collection = Quarantined["kind"];
const COLLECTIONS: readonly Collection[] = [
  "projects",
  "jobs",
  "runs",
  "applications",
  "models",
  "builds",
  "deployments",
];

export function checkState(parsed: Record<string, unknown>): CheckedState {
  const state = emptyState();
  const quarantined: Quarantined[] = [];
  const findings: string[] = [];
  const raw: Partial<Record<Collection, Record<string, unknown>>> = {};
  for (const kind of COLLECTIONS) {
    const value = parsed[kind];
    if (value === undefined) continue;
    if (isRecord(value)) raw[kind] = value;
    else findings.push(`state.json: "${kind}" is not an object; ignored`);
  }
  const setAside = (kind: Collection, id: string, reason: string) => {
    const value = raw[kind]?.[id];
    if (value === undefined) return;
    delete raw[kind]?.[id];
    quarantined.push({ kind, id, reason, value });
  };
  for (const kind of COLLECTIONS) {
    for (const [id, value] of Object.entries(raw[kind] ?? {})) {
      const problem = problemOf(kind, value);
      if (problem) setAside(kind, id, problem);
    }
  }
  // Dependents of what was set aside go with it: a job without its project cannot run, and would fail on start.
  const gone = (kind: Collection, id: unknown) => typeof id === "string" && raw[kind]?.[id] === undefined;
  for (const [id, value] of Object.entries(raw.jobs ?? {}))
    if (isRecord(value) && gone("projects", value.projectId)) setAside("jobs", id, "its project was set aside");
  for (const [id, value] of Object.entries(raw.applications ?? {}))
    if (isRecord(value) && gone("projects", value.projectId)) setAside("applications", id, "its project was set aside");
  for (const [id, value] of Object.entries(raw.models ?? {}))
    if (isRecord(value) && gone("projects", value.projectId)) setAside("models", id, "its project was set aside");
  for (const [id, value] of Object.entries(raw.builds ?? {}))
    if (isRecord(value) && isRecord(value.build) && gone("models", value.build.model_id))
      setAside("builds", id, "its model was set aside");
  for (const [id, value] of Object.entries(raw.deployments ?? {}))
    if (isRecord(value) && gone("builds", value.build_id)) setAside("deployments", id, "its build was set aside");
  for (const [id, value] of Object.entries(raw.runs ?? {}))
    if (isRecord(value) && gone("projects", value.project_id)) setAside("runs", id, "its project was set aside");

  // The checks above establish each entry's shape; the wire objects are then taken as they are.
  Object.assign(state, raw);
  if (isRecord(parsed.pids)) {
    for (const [id, pid] of Object.entries(parsed.pids))
      if (typeof pid === "number" && Number.isInteger(pid) && pid > 1) state.pids[id] = pid;
  }
  return { state, quarantined, findings };
}

/** Why an entry cannot be used, or undefined when it can. */
function problemOf(kind: Collection, value: unknown): string | undefined {
  if (!isRecord(value)) return "not an object";
  switch (kind) {
    case "projects":
      return stringProblems(value, { name: "name" }) ?? envProblem(value.environment);
    case "jobs":
      return wrapped(
        value,
        "job",
        (job) =>
          stringProblems(job, { name: "name", script: "path", arguments: "process" }) ?? envProblem(job.environment),
      );
    case "runs":
      return stringProblems(value, { arguments: "process" }) ?? envProblem(value.environment);
    case "applications":
      return wrapped(
        value,
        "app",
        (app) =>
          stringProblems(app, { name: "name", script: "path", subdomain: "name" }) ??
          envProblem(app.environment) ??
          (typeof value.port === "number" && typeof value.readonlyPort === "number" ? undefined : "no ports"),
      );
    case "models":
      return wrapped(value, "model", (model) => stringProblems(model, { name: "name" }));
    case "builds":
      return wrapped(value, "build", (build) =>
        stringProblems(build, { file_path: "path", model_root_dir: "path", function_name: "process" }),
      );
    case "deployments":
      return envProblem(value.environment);
  }
}

function wrapped(
  record: Record<string, unknown>,
  key: string,
  check: (inner: Record<string, unknown>) => string | undefined,
): string | undefined {
  const inner = record[key];
  if (typeof record.projectId !== "string") return "no projectId";
  if (!isRecord(inner)) return `no ${key} object`;
  return check(inner);
}

type StringKind = "name" | "path" | "process";

function stringProblems(object: Record<string, unknown>, fields: Record<string, StringKind>): string | undefined {
  for (const [field, kind] of Object.entries(fields)) {
    const value = object[field];
    if (value === undefined) continue;
    if (typeof value !== "string") return `${field} is not a string`;
    const problem =
      kind === "name"
        ? nameProblem(value)
        : kind === "path"
          ? hasControlCharacters(value)
            ? "contains control characters"
            : undefined
          : processValueProblem(value);
    if (problem) return `${field} ${problem}`;
  }
  return undefined;
}

function envProblem(environment: unknown): string | undefined {
  if (environment === undefined || environment === "") return undefined;
  if (typeof environment !== "string") return "environment is not a JSON string";
  const problems = environmentProblems("environment", envFromWire(environment));
  return problems.length > 0 ? problems.join("; ") : undefined;
}
