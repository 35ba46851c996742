/** The fixed runtime catalogue, API key validation, and what this platform is (a local extension). */
import type { Schemas } from "../../client/index.js";
import { applyListQuery } from "../list.js";
import { RUNTIMES } from "../runtimes.js";
import type { Handlers } from "../server.js";

/** The name `GET /api/v2/cml-lab/platform` answers with (src/deploy/connection.ts asks for it). */
export const LOCAL_PLATFORM = "cml-lab-local";

export function runtimeHandlers(): Handlers {
  return {
    ListRuntimes: ({ query }) => {
      const { items, next_page_token } = applyListQuery(RUNTIMES, query);
      return { runtimes: items, next_page_token } satisfies Schemas["ListRuntimesResponse"];
    },
    // Reaching a handler means the Bearer key was accepted; the local key serves every audience.
    ValidateAPIKey: () => ({ valid: true, username: "local", message: "API key is valid for the given audience" }),
    LocalGetPlatform: () => ({ platform: LOCAL_PLATFORM, extensions: ["logs", "application-endpoint"] }),
  };
}
