/**
 * Reading workload logs. CML's API has no log endpoint; the local platform adds one (src/local/README.md), and
 * the platform says whether it has it (connection.ts), so a workspace gets a pointer to the UI instead of errors.
 */
import { type CmlClient, isApiError, rawRequest } from "../../client/index.js";
import type { Platform } from "../engine/kind.js";

/** Follows a growing log, printing only what is new. */
export function logFollower(api: CmlClient, platform: Platform, path: string, print: (text: string) => void) {
  let printed = 0;
  let unavailable = false;
  const notAvailable = () => {
    unavailable = true;
    print("(logs are not available through this workspace's API; see the CML UI)\n");
  };
  return {
    async poll(): Promise<void> {
      if (unavailable) return;
      if (!(await platform.logs())) return notAvailable();
      let gone = false;
      const text = await rawRequest(api, { method: "GET", path }).catch((error: unknown) => {
        gone = isApiError(error) && (error.status === 404 || error.status === 501);
        return undefined;
      });
      if (gone) return notAvailable();
      if (typeof text !== "string" || text.length <= printed) return;
      print(text.slice(printed));
      printed = text.length;
    },
  };
}
