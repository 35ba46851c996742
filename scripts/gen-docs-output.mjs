// Rewrites the command outputs shown in README.md and docs/lab.md from a real run of their commands, so updating
// the docs is one command: npm run gen:docs-output (it builds first), then review `git diff`.
// It is the docs-as-tests suite (test/docs) in write mode: the same session, the same comparison; where a shown
// output no longer matches, the real one replaces it (lines that still match, and `…`, are kept as written).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const vitest = spawnSync("npx", ["vitest", "run", "test/docs/docs.test.ts"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, CML_LAB_DOCS_OUTPUT: "write" },
});
if (vitest.status !== 0) {
  console.error("gen:docs-output: a documented command failed (above); the docs were rewritten only where it ran");
  process.exit(vitest.status ?? 1);
}
spawnSync("git", ["diff", "--stat", "--", "README.md", "docs"], { cwd: root, stdio: "inherit" });
