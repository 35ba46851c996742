/**
 * List semantics shared by every List* operation: `search_filter` (a JSON object; values match as
 * case-sensitive substrings of the named, possibly dotted, fields, as on CML), `sort` (`-a,+b`), and
 * `page_size` / `page_token` pagination with `next_page_token: ""` on the last page.
 */
import { isJsonObject } from "../shared/json-shape.js";
import { badRequest } from "./errors.js";
import { isRecord } from "./spec.js";

export const DEFAULT_PAGE_SIZE = 10;

export function applyListQuery<T extends object>(
  items: readonly T[],
  query: URLSearchParams,
): { items: T[]; next_page_token: string } {
  let selected = [...items];
  const filter = query.get("search_filter");
  if (filter) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(filter);
    } catch {
      throw badRequest(`search_filter is not a JSON object: ${filter}`);
    }
    if (!isJsonObject(parsed)) throw badRequest(`search_filter is not a JSON object: ${filter}`);
    selected = selected.filter((item) =>
      Object.entries(parsed).every(([key, wanted]) => {
        const actual = fieldValue(item, key);
        if (actual === undefined) return false;
        const text = typeof wanted === "string" ? wanted : JSON.stringify(wanted);
        // Status filters take CML's short lowercase names (`running`) for enum values like APPLICATION_RUNNING.
        if (key === "status") return String(actual).toLowerCase().includes(text.toLowerCase());
        return String(actual).includes(text);
      }),
    );
  }
  const sort = query.get("sort");
  if (sort) selected.sort(comparator(sort));
  const size = parseNonNegative(query.get("page_size"), "page_size") || DEFAULT_PAGE_SIZE;
  const offset = parseNonNegative(query.get("page_token"), "page_token");
  const page = selected.slice(offset, offset + size);
  const next = offset + size < selected.length ? String(offset + size) : "";
  return { items: page, next_page_token: next };
}

function parseNonNegative(text: string | null, name: string): number {
  if (text === null || text === "") return 0;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw badRequest(`${name} must be a non-negative integer, got ${text}`);
  return value;
}

function fieldValue(item: object, dotted: string): unknown {
  let current: unknown = item;
  for (const part of dotted.split(".")) {
    if (!isRecord(current)) return undefined;
    current = current[part];
  }
  return current;
}

function comparator(sort: string): (a: object, b: object) => number {
  const keys = sort
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k) => ({ desc: k.startsWith("-"), key: k.replace(/^[-+]/, "") }));
  return (a, b) => {
    for (const { desc, key } of keys) {
      const x = String(fieldValue(a, key) ?? "");
      const y = String(fieldValue(b, key) ?? "");
      if (x !== y) return (x < y ? -1 : 1) * (desc ? -1 : 1);
    }
    return 0;
  };
}
