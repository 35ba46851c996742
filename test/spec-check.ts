/**
 * One check, used by every test that sees CML API traffic (the local platform's clients, the msw fakes): does a
 * response match what openapi/openapi.json says that operation answers? A 200 is validated against the
 * operation's schema, any other JSON status against its `default` (`runtimeError`), with ajv and ajv-formats
 * (src/local/spec.ts), so `""` in a date-time field is a violation. Paths outside the spec (the local
 * platform's /logs and /endpoint extensions) are not checked; non-JSON error pages (a proxy's 502) neither.
 */
import { matchOperation, responseProblems } from "../src/local/index.js";

/** Violations of one response, each `OperationId status: field: message`; empty when it conforms. */
export async function responseViolations(method: string, url: string, response: Response): Promise<string[]> {
  const op = matchOperation(method, new URL(url).pathname);
  if (!op) return [];
  const id = `${op.route.operationId} ${response.status}`;
  const json = (response.headers.get("content-type") ?? "").includes("application/json");
  if (!json) {
    return response.status === 200 && op.route.responseSchema ? [`${id}: a JSON body is declared, got none`] : [];
  }
  const text = await response.clone().text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [`${id}: the body is not JSON: ${text.slice(0, 80)}`];
  }
  return responseProblems(op.route.operationId, body, response.status).map((problem) => `${id}: ${problem}`);
}

/** A fetch that records every violation of the responses it returns in `problems`. */
export function validatingFetch(
  problems: string[],
  inner: (request: Request) => Promise<Response> = (request) => fetch(request),
): (request: Request) => Promise<Response> {
  return async (request) => {
    const response = await inner(request);
    problems.push(...(await responseViolations(request.method, request.url, response)));
    return response;
  };
}
