/**
 * The local runtime catalogue. Identifiers look like a workspace's: Cloudera's PBJ Workbench image, and the
 * cml-lab custom runtime (runtime/Dockerfile) as it would be registered from a site registry.
 */
import type { Schemas } from "../client/index.js";

export const PYTHON_RUNTIME: Schemas["Runtime"] = {
  image_identifier:
    "docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-pbj-workbench-python3.11-standard:2025.09.1-b5",
  editor: "PBJ Workbench",
  kernel: "Python 3.11",
  edition: "Standard",
  description: "Standard edition Python runtime provided by Cloudera",
  full_version: "2025.09.1-b5",
  status: "ENABLED",
  register_user_id: 0,
};

export const NODE_RUNTIME: Schemas["Runtime"] = {
  image_identifier: "registry.example.com/cml-lab-runtime:0.1.1",
  editor: "PBJ Workbench",
  kernel: "Python 3.11",
  edition: "cml-lab Node 20",
  description: "PBJ Workbench Python 3.11 with Node.js 20 for cml-lab workloads",
  full_version: "0.1.1",
  status: "ENABLED",
  register_user_id: 1,
};

export const RUNTIMES: readonly Schemas["Runtime"][] = [PYTHON_RUNTIME, NODE_RUNTIME];

export function findRuntime(identifier: string): Schemas["Runtime"] | undefined {
  return RUNTIMES.find((runtime) => runtime.image_identifier === identifier);
}

/** Whether workloads on this runtime get Node and cml-lab (the custom runtime's promise). */
export function hasCmlLab(identifier: string | undefined): boolean {
  return identifier === NODE_RUNTIME.image_identifier;
}
