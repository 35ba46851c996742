// The only import path for deploy, workloads and local: everything they need from the CML API.
export type { components, operations, paths } from "./schema.gen.js";
