/** Helpers for the adapters' `read`. */
import { isApiError } from "../../client/index.js";

/**
 * A platform that does not implement a kind at all (501, e.g. a partial local platform) holds none of ours,
 * unless the manifest needs that kind (`needed`).
 */
export async function unlessUnimplemented<T>(needed: boolean, list: () => Promise<T[]>): Promise<T[]> {
  try {
    return await list();
  } catch (error) {
    if (isApiError(error) && error.status === 501 && !needed) return [];
    throw error;
  }
}
