/**
 * Pagination over CML's `page_token` / `next_page_token` (`""` on the last page). The caller's closure
 * re-sends its own `page_size`, `search_filter` and `sort` with every page, as the API requires.
 */
import { type DataOf, type FetchResult, unwrap } from "./unwrap.js";

/** Stops a runaway loop if a server ever hands back the same token forever. */
const MAX_PAGES = 10_000;

export async function* paginate<R extends FetchResult, Item>(
  fetchPage: (pageToken: string | undefined) => Promise<R>,
  items: (page: NonNullable<DataOf<R>>) => readonly Item[] | undefined,
): AsyncGenerator<Item, void, undefined> {
  let token: string | undefined;
  const seen = new Set<string>();
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await unwrap(fetchPage(token));
    if (body === undefined || body === null) return;
    yield* items(body) ?? [];
    const next = nextToken(body);
    if (!next || seen.has(next)) return;
    seen.add(next);
    token = next;
  }
}

export async function listAll<R extends FetchResult, Item>(
  fetchPage: (pageToken: string | undefined) => Promise<R>,
  items: (page: NonNullable<DataOf<R>>) => readonly Item[] | undefined,
): Promise<Item[]> {
  const all: Item[] = [];
  for await (const item of paginate(fetchPage, items)) all.push(item);
  return all;
}

function nextToken(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("next_page_token" in body)) return undefined;
  return typeof body.next_page_token === "string" ? body.next_page_token : undefined;
}
