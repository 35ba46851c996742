/**
 * The packages only the workloads use (cml-lab's optional peerDependencies: README, "cml-lab as a dependency")
 * are not installed for a project that depends on cml-lab, so nothing a library user or either bin loads at start
 * may import one statically: they are loaded with `import()` where used (src/shared/workload-packages.ts).
 * A second pass of `npm run lint`, separate from .dependency-cruiser.cjs because it must ignore dynamic imports
 * (which would make everything reachable) and type-only ones (erased by tsc), while the layering rules count both.
 */
const base = require("./.dependency-cruiser.cjs");
const { peerDependencies } = require("./package.json");

const names = Object.keys(peerDependencies).map((name) => name.replace(/[.]/g, "\\."));

module.exports = {
  forbidden: [
    {
      name: "workload-packages-on-demand",
      severity: "error",
      comment:
        "A workload package is reached through static imports from an entry point: import it with import() where it is used (src/shared/workload-packages.ts).",
      from: { path: "^src/(cli/bin|deploy/bin|client/index|deploy/index|local/serve|local/index)\\.ts$" },
      // Resolved (node_modules/<name>/…) or, where it is not installed, the bare name.
      to: { path: `(^|node_modules/)(${names.join("|")})(/|$)`, reachable: true },
    },
  ],
  options: {
    ...base.options,
    tsPreCompilationDeps: false,
    exclude: { ...base.options.exclude, dynamic: true },
  },
};
