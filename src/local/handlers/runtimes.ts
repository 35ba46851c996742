/** The fixed runtime catalogue, and API key validation. */
import type { Schemas } from "../../client/index.js";
import { applyListQuery } from "../list.js";
import { RUNTIMES } from "../runtimes.js";
import type { Handlers } from "../server.js";

export function runtimeHandlers(): Handlers {
  return {
    ListRuntimes: ({ query }) => {
      const { items, next_page_token } = applyListQuery(RUNTIMES, query);
      return { runtimes: items, next_page_token } satisfies Schemas["ListRuntimesResponse"];
    },
    // Reaching a handler means the Bearer key was accepted; the local key serves every audience.
    ValidateAPIKey: () => ({ valid: true, username: "local", message: "API key is valid for the given audience" }),
  };
}
