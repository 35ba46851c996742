// Shared by the launchers: import a compiled entry point, or explain how to build it.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export async function runBin(relative) {
  const url = new URL(relative, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    process.stderr.write(`cml-lab is not built (${fileURLToPath(url)} is missing): run \`npm run build\`\n`);
    process.exit(1);
  }
  await import(url.href);
}
