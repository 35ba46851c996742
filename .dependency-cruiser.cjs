/**
 * The layering rules of docs/architecture.md, checked by `npm run lint` (dependency-cruiser).
 * A rule here is a promise the architecture page makes; change both together.
 */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "An import cycle means two modules are one; split what they share into a leaf.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "shared-is-a-leaf",
      severity: "error",
      comment: "src/shared holds the cross-cutting helpers everything uses; it uses nothing of ours.",
      from: { path: "^src/shared/" },
      to: { path: "^src/", pathNot: "^src/shared/" },
    },
    {
      name: "client-stands-alone",
      severity: "error",
      comment: "cml-lab/client is a library of its own: it imports only src/shared.",
      from: { path: "^src/client/" },
      to: { path: "^src/", pathNot: "^src/(client|shared)/" },
    },
    {
      name: "engine-knows-no-cli-or-local",
      severity: "error",
      comment:
        "The deploy engine is a library (cml-lab/deploy): no CLI, no argument parsing, no local-platform knowledge; the connection and its capabilities are supplied to it.",
      from: { path: "^src/deploy/(engine|resources|manifest|operations)/" },
      to: {
        path: "^src/(local|cli|lab|workloads)/|^src/deploy/(commands|cli)/|^src/deploy/(main|bin|connection)\\.ts$",
      },
    },
    {
      name: "workloads-never-deploy",
      severity: "error",
      comment:
        "A workload runs the same under the local platform and on CML: it never imports the deploy tool, the local platform or the lab orchestration.",
      from: { path: "^src/workloads/" },
      to: { path: "^src/(deploy|local|lab|cli)/" },
    },
    {
      name: "local-is-a-server",
      severity: "error",
      comment:
        "The local platform imports the client (wire types) and shared helpers only; it is a server, not a deploy tool.",
      from: { path: "^src/local/" },
      to: { path: "^src/(deploy|cli|lab|workloads)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.gen\\.ts$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
