/**
 * CML's model endpoint contract on its own port (CML serves it at `https://modelservice.<domain>/model`):
 * `POST /model` with `{"accessKey": "...", "request": {...}}` (or `?accessKey=` and `{"request": ...}`)
 * → `{"success": true, "response": <function result>}`. Models with authentication enabled also need
 * `Authorization: Bearer <API key>`.
 */
import { timingSafeEqual } from "node:crypto";
import { isJsonObject, shapeOf } from "../shared/json-shape.js";
import type { PlatformContext } from "./context.js";
import type { ModelEngine } from "./models.js";

/** What a model's process answers (src/local/harness.ts): its function's result, or why it failed. */
const isModelAnswer = shapeOf<{ response: unknown }>({
  type: "object",
  required: ["response"],
  properties: { response: {} },
});
const isModelFailure = shapeOf<{ error: string }>({
  type: "object",
  required: ["error"],
  properties: { error: { type: "string" } },
});

export function createModelService(ctx: PlatformContext, models: ModelEngine): (request: Request) => Promise<Response> {
  const failure = (status: number, error: string) => Response.json({ success: false, error }, { status });
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== "/model") return failure(404, `no endpoint at ${url.pathname}; POST /model`);
    if (request.method !== "POST") return failure(405, "use POST /model");
    let body: unknown;
    try {
      body = JSON.parse((await request.text()) || "{}");
    } catch {
      return failure(400, "request body is not valid JSON");
    }
    if (!isJsonObject(body)) return failure(400, 'body must be {"accessKey": "...", "request": {...}}');
    const key = typeof body.accessKey === "string" ? body.accessKey : (url.searchParams.get("accessKey") ?? "");
    if (!key) return failure(400, "accessKey is required (in the body or the query string)");
    const record = Object.values(ctx.state.models).find((m) => m.model.access_key === key);
    if (!record) return failure(404, "no model with this access key");
    if (record.model.auth_enabled && !bearerMatches(request, ctx.apiKey)) {
      return failure(401, "this model requires Authorization: Bearer <API key>");
    }
    const modelId = record.model.id ?? "";
    const deployment = Object.values(ctx.state.deployments).find(
      (d) => d.model_id === modelId && d.status === "deployed" && models.servingPort(d.id ?? "") !== undefined,
    );
    const port = deployment ? models.servingPort(deployment.id ?? "") : undefined;
    if (port === undefined) return failure(503, `model ${record.model.name} has no running deployment`);
    let answer: Response;
    try {
      answer = await fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ request: body.request ?? null }),
      });
    } catch (error) {
      return failure(
        503,
        `model ${record.model.name} did not answer: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const result: unknown = await answer.json().catch(() => undefined);
    if (answer.ok && isModelAnswer(result)) {
      return Response.json({ success: true, response: result.response });
    }
    const message = isModelFailure(result) ? result.error : `model answered ${answer.status}`;
    return failure(500, message);
  };
}

function bearerMatches(request: Request, apiKey: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec((request.headers.get("authorization") ?? "").trim());
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(apiKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
