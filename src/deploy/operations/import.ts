/**
 * `deploy import`: a manifest for a project that already exists, so a hand-built lab (or any project) can come
 * under deploy's management. Reads with the same calls as plan. Secret-looking environment values are never
 * written: they become `${secret:KEY}` references, listed in the header for the user to export.
 */
import { Document } from "yaml";
import { type CmlClient, envFromWire, findOneByName } from "../../client/index.js";
import { UserError } from "../../shared/errors.js";
import { isSecretName } from "../../shared/secrets.js";
import type { Platform } from "../engine/kind.js";
import { readContents } from "../engine/live.js";
import { OWNER_ENV_KEY } from "../manifest/model.js";
import { applicationsOf } from "../resources/application.js";
import { kinds } from "../resources/index.js";
import { jobsOf } from "../resources/job.js";
import { modelsOf } from "../resources/model.js";

export interface ImportRequest {
  project: string;
  /** Stack name for the manifest (default: from the project name). */
  stack?: string;
  /** Write a `local` target (the local platform) instead of a workspace target. */
  local: boolean;
  /**
   * Variables a manifest marks `${secret:…}` (e.g. a model endpoint URL the lab keeps private although its
   * name does not look secret): written as references too.
   */
  secretKeys?: ReadonlySet<string>;
}

export async function importProject(
  target: { api: CmlClient; platform: Platform },
  request: ImportRequest,
): Promise<string> {
  const { api } = target;
  const project = await findOneByName(api, "project", { name: request.project });
  if (!project?.id)
    throw new UserError(`no project named "${request.project}"`, { notes: ["names are exact and case-sensitive"] });
  const contents = await readContents(kinds, { api, platform: target.platform, projectId: project.id });
  const live = { jobs: jobsOf(contents), applications: applicationsOf(contents), models: modelsOf(contents) };
  const secrets = new Set<string>();
  const env = (wire: string | undefined) => {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(envFromWire(wire))) {
      if (key === OWNER_ENV_KEY) continue;
      if (isSecretName(key) || request.secretKeys?.has(key)) {
        secrets.add(key);
        out[key] = `\${secret:${key}}`;
      } else out[key] = value.replaceAll("${", "$${");
    }
    return out;
  };
  const runtimes = [
    ...live.jobs.map((j) => j.runtime_identifier),
    ...live.applications.map((a) => a.runtime_identifier),
    ...live.models.map((m) => m.builds[0]?.runtime_identifier),
  ].filter((r): r is string => Boolean(r));
  const defaultRuntime = mostCommon(runtimes);
  const runtime = (id: string | undefined) => (id && id !== defaultRuntime ? { runtime: { identifier: id } } : {});
  const keys = new KeyMaker();
  const jobKeys = new Map(live.jobs.map((j) => [j.id ?? "", keys.make(j.name ?? "job")]));
  const paths = new Set<string>();

  const jobs: Record<string, unknown> = {};
  for (const job of live.jobs) {
    const key = jobKeys.get(job.id ?? "") ?? "job";
    if (job.script) paths.add(job.script);
    const parent = job.parent_id ? jobKeys.get(job.parent_id) : undefined;
    jobs[key] = {
      ...(key !== job.name ? { name: job.name } : {}),
      script: job.script,
      ...(job.arguments ? { arguments: job.arguments } : {}),
      ...(parent ? { after: parent } : job.schedule ? { schedule: job.schedule } : {}),
      ...runtime(job.runtime_identifier),
      cpu: job.cpu,
      memory: job.memory,
      ...(job.nvidia_gpu ? { gpu: job.nvidia_gpu } : {}),
      ...(Number(job.timeout ?? 0) > 0
        ? { timeout: Number(job.timeout), kill_on_timeout: job.kill_on_timeout ?? false }
        : {}),
      ...withEnv(env(job.environment)),
    };
  }
  const applications: Record<string, unknown> = {};
  for (const app of live.applications) {
    const key = keys.make(app.name ?? app.subdomain ?? "app");
    if (app.script) paths.add(app.script);
    applications[key] = {
      ...(key !== app.name ? { name: app.name } : {}),
      subdomain: app.subdomain,
      script: app.script,
      ...(app.description ? { description: app.description } : {}),
      ...runtime(app.runtime_identifier),
      cpu: app.cpu,
      memory: app.memory,
      ...(app.bypass_authentication ? { bypass_authentication: true } : {}),
      ...withEnv(env(app.environment)),
    };
  }
  const models: Record<string, unknown> = {};
  for (const { model, builds, deployments } of live.models) {
    const build = builds[0];
    if (!build?.file_path || !build.function_name) continue;
    paths.add(build.file_path);
    const key = keys.make(model.name ?? "model");
    const deployment = deployments[0];
    models[key] = {
      ...(key !== model.name ? { name: model.name } : {}),
      ...(model.description ? { description: model.description } : {}),
      file: build.file_path,
      function: build.function_name,
      ...runtime(build.runtime_identifier),
      auth_enabled: model.auth_enabled ?? true,
      deployment: {
        cpu: deployment?.cpu ?? 1,
        memory: deployment?.memory ?? 2,
        replicas: deployment?.replicas ?? 1,
        ...withEnv(env(deployment?.environment)),
      },
    };
  }

  const manifest = {
    name: request.stack ?? keys.slug(request.project),
    project: {
      name: project.name,
      ...(project.description ? { description: project.description } : {}),
      existing_paths: [...paths].sort(),
    },
    targets: request.local
      ? { local: { default: true, local: true } }
      : { workspace: { default: true, url: "${env:CML_API_URL}" } },
    ...(defaultRuntime ? { defaults: { runtime: { identifier: defaultRuntime } } } : {}),
    ...(Object.keys(jobs).length ? { jobs } : {}),
    ...(Object.keys(applications).length ? { applications } : {}),
    ...(Object.keys(models).length ? { models } : {}),
  };
  const doc = new Document(manifest);
  doc.commentBefore = [
    ` Imported from project "${project.name}" by deploy import.`,
    " Scripts stay where they are (project.existing_paths); add files: to sync them from here instead.",
    " Take ownership with: deploy apply <this file> --adopt",
    ...(secrets.size
      ? [` Export these before plan/apply (values were not written): ${[...secrets].sort().join(", ")}`]
      : []),
  ].join("\n");
  return doc.toString({ lineWidth: 0 });
}

function withEnv(env: Record<string, string>): { env?: Record<string, string> } {
  return Object.keys(env).length ? { env } : {};
}

function mostCommon(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** Manifest keys from CML names: the key pattern allows letters, digits, `_` and `-`; duplicates get a suffix. */
class KeyMaker {
  private readonly used = new Set<string>();
  slug(name: string): string {
    return name.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^[-_]+|-+$/g, "") || "x";
  }
  make(name: string): string {
    const base = this.slug(name);
    let key = base;
    for (let i = 2; this.used.has(key); i++) key = `${base}-${i}`;
    this.used.add(key);
    return key;
  }
}
