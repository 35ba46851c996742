import { defineConfig } from "vitest/config";

/** `npx vitest run --config bench/deploy/vitest.config.ts`: prints numbers; not part of `npm test`. */
export default defineConfig({
  test: { include: ["bench/deploy/**/*.bench-run.ts"], testTimeout: 1_800_000, pool: "forks" },
});
