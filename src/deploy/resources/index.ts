/** Entry kind → adapter. Adding a kind: see README.md in this directory. */
import type { ResourceKey } from "../manifest/model.js";
import { applicationAdapter } from "./application.js";
import { filesAdapter } from "./files.js";
import { jobAdapter } from "./job.js";
import { buildAdapter, deploymentAdapter, modelAdapter } from "./model.js";
import { projectAdapter } from "./project.js";
import type { EntryKind, ResourceAdapter } from "./types.js";

export const adapters: Readonly<Record<EntryKind, ResourceAdapter>> = {
  project: projectAdapter,
  files: filesAdapter,
  jobs: jobAdapter,
  applications: applicationAdapter,
  models: modelAdapter,
  builds: buildAdapter,
  deployments: deploymentAdapter,
};

export function entryKind(key: ResourceKey): EntryKind {
  if (key === "project") return "project";
  const [kind] = key.split(".");
  if (kind === "models") {
    if (key.endsWith(".build")) return "builds";
    if (key.endsWith(".deployment")) return "deployments";
    return "models";
  }
  if (kind === "files" || kind === "jobs" || kind === "applications") return kind;
  throw new Error(`bug: no adapter for ${key}`);
}

export function adapterFor(key: ResourceKey): ResourceAdapter {
  return adapters[entryKind(key)];
}
