import { readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";

/** Every HTML page below `root`, as sorted `/`-separated relative paths: a docs directory as the scraper sees it. */
export function listHtmlPages(root: string): string[] {
  const pages: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".html")) pages.push(relative(root, full).split(sep).join("/"));
    }
  };
  walk(root);
  return pages.sort();
}
