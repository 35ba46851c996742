/**
 * Values that end up in a workload's process (environment, arguments, its script path) or in a file name must be
 * ones a process can take: Node's child_process throws ERR_INVALID_ARG_VALUE on a NUL byte in any of them, and
 * the kernel refuses (E2BIG) a single `KEY=value` longer than MAX_ARG_STRLEN. They are refused where they enter
 * (the API, with 400 naming the field) and again where they are read back (state.json written by an older
 * server), so nothing stored can make a later start fail.
 */
import { badRequest } from "./errors.js";

/** Linux MAX_ARG_STRLEN (32 pages): the longest single argument or `KEY=value` string execve accepts. */
export const MAX_ARG_BYTES = 131_072;

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** What is wrong with a value a process must take (argv, environment value), or undefined when nothing is. */
export function processValueProblem(value: string): string | undefined {
  if (value.includes("\0")) return "contains a NUL byte, which no process can take";
  if (Buffer.byteLength(value) >= MAX_ARG_BYTES) return `is longer than a process accepts (${MAX_ARG_BYTES} bytes)`;
  return undefined;
}

/** Environment names: non-empty, no `=` (it ends the name), no control characters; values: as above. */
export function environmentProblems(field: string, env: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    const name = `${field}.${printable(key)}`;
    if (!key) problems.push(`${field} has an empty variable name`);
    else if (key.includes("=")) problems.push(`${name}: a variable name cannot contain '='`);
    else if (CONTROL.test(key)) problems.push(`${name}: a variable name cannot contain control characters`);
    const text = typeof value === "string" ? value : JSON.stringify(value ?? "");
    const problem = processValueProblem(`${key}=${text}`);
    if (problem) problems.push(`${name} ${problem}`);
  }
  return problems;
}

export function checkEnvironment(field: string, env: Readonly<Record<string, unknown>> | undefined): void {
  const problems = env ? environmentProblems(field, env) : [];
  if (problems.length > 0) throw badRequest(`invalid request: ${problems.join("; ")}`);
}

/** Names end up in workload environments (CDSW_PROJECT), log lines and file listings: no control characters. */
export function nameProblem(value: string): string | undefined {
  return CONTROL.test(value) ? "cannot contain control characters" : processValueProblem(value);
}

export function checkName(field: string, value: string | undefined): void {
  const problem = value === undefined ? undefined : nameProblem(value);
  if (problem) throw badRequest(`invalid request: ${field} ${problem}`);
}

export function checkProcessValue(field: string, value: string | undefined): void {
  const problem = value === undefined ? undefined : processValueProblem(value);
  if (problem) throw badRequest(`invalid request: ${field} ${problem}`);
}

/** Whether a project path has characters no file name here should have. */
export function hasControlCharacters(value: string): boolean {
  return CONTROL.test(value);
}

/**
 * Every string in a request body (keys too) with a NUL byte, as `body.a.b` paths: no field of the CML API can
 * carry one, and refusing them at the door keeps them out of processes, paths and state.json alike.
 */
export function nulFields(body: unknown): string[] {
  // Iterative: a hostile body nested thousands deep must get a 400, not a stack overflow.
  const found: string[] = [];
  const stack: [unknown, string][] = [[body, "body"]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [value, path] = item;
    if (typeof value === "string") {
      if (value.includes("\0")) found.push(path);
    } else if (Array.isArray(value)) {
      for (const [index, child] of value.entries()) stack.push([child, `${path}[${index}]`]);
    } else if (typeof value === "object" && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (key.includes("\0")) found.push(`${path}.${printable(key)}`);
        else stack.push([child, `${path}.${key}`]);
      }
    }
  }
  return found.sort();
}

/** A name fit for an error message: control characters shown as escapes, never raw. */
export function printable(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point.
  return value.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
