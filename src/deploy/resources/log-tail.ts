/** The last lines of a workload's log, for failure messages. */
import { rawRequest } from "../../client/index.js";
import type { ApplyContext } from "./types.js";

/**
 * CML's API has no log endpoint; the local platform has one under the workload (README of src/local), e.g.
 * `/projects/{id}/applications/{id}/logs`. Anything else: no tail.
 */
export async function logTail(ctx: ApplyContext, path: string, lines = 15): Promise<string | undefined> {
  try {
    const text = await rawRequest(ctx.api, { method: "GET", path });
    if (typeof text !== "string" || !text.trim()) return undefined;
    return text
      .trimEnd()
      .split("\n")
      .slice(-lines)
      .map((l) => `    ${l}`)
      .join("\n");
  } catch {
    return undefined;
  }
}
