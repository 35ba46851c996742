/**
 * The one-page UI: plain files (no build step), read once at start. From src/ (tests, tsx) they sit beside
 * this module; from dist/ they are read from the package's src/ tree, which ships with it.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface UiFile {
  body: string;
  type: string;
}

const FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "render.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

export function uiDirectory(): string {
  const candidates = [new URL("./ui/", import.meta.url), new URL("../../../src/workloads/app/ui/", import.meta.url)];
  for (const candidate of candidates) {
    const dir = fileURLToPath(candidate);
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error(`the chat UI files are missing (looked in ${candidates.map((c) => fileURLToPath(c)).join(", ")})`);
}

export function loadUi(dir = uiDirectory()): Map<string, UiFile> {
  const files = new Map<string, UiFile>();
  for (const [name, type] of Object.entries(FILES))
    files.set(name, { body: readFileSync(`${dir}${name}`, "utf8"), type });
  return files;
}
