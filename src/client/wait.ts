/**
 * Waiting is its own step (house style P7): bounded, cancellable, and it says what it waited for and the
 * last status it saw. Polls start fast and back off to the interval, so local runs finish quickly while a
 * real workspace is not hammered.
 */

import { pollUntil } from "../shared/wait.js";
import type { CmlClient } from "./client.js";
import { isApiError } from "./errors.js";
import type { components } from "./schema.gen.js";
import { unwrap } from "./unwrap.js";

type S = components["schemas"];

export interface WaitOptions {
  timeoutMs?: number;
  /** Longest pause between polls (the first polls come sooner). */
  intervalMs?: number;
  signal?: AbortSignal;
  /** Called whenever the observed status changes (for progress output). */
  onProgress?: (status: string, elapsedMs: number) => void;
}

export interface WaitSpec<T> extends WaitOptions {
  /** What is awaited, for messages: `application chat to be running`. */
  what: string;
  status: (value: T) => string | undefined;
  until: (value: T) => boolean;
  /** A reason when the value can no longer reach the awaited state. */
  failWhen?: (value: T) => string | undefined;
  /** What the create that started the wait answered: judged before the first poll (shared/wait.ts). */
  initial?: T;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_WAIT_INTERVAL_MS = 2_000;

export function waitFor<T>(poll: () => Promise<T>, spec: WaitSpec<T>): Promise<T> {
  return pollUntil(poll, {
    ...spec,
    timeoutMs: spec.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS,
    intervalMs: spec.intervalMs ?? DEFAULT_WAIT_INTERVAL_MS,
    // A passing failure during a poll is not the end of the wait; anything else is.
    isPassing: (error) => isApiError(error) && error.retryable,
  });
}

/** Job-run states after which nothing more happens (STOPPING and UNKNOWN are not final; openapi/FACTS.md §5). */
export const TERMINAL_RUN_STATUSES: ReadonlySet<string> = new Set([
  "ENGINE_SUCCEEDED",
  "ENGINE_FAILED",
  "ENGINE_TIMEDOUT",
  "ENGINE_STOPPED",
  "ENGINE_SKIPPED",
]);

export const waits = {
  /** A new project is usable only once `creation_status` is `success` (Cloudera's AMP role polls the same). */
  projectReady(
    api: CmlClient,
    projectId: string,
    options: WaitOptions & { initial?: S["Project"] } = {},
  ): Promise<S["Project"]> {
    return waitFor(
      () => unwrap(api.GET("/api/v2/projects/{project_id}", { params: { path: { project_id: projectId } } })),
      {
        what: `project ${projectId} to be created`,
        status: (p) => p.creation_status,
        until: (p) => p.creation_status === "success",
        failWhen: (p) =>
          /fail|error/i.test(p.creation_status ?? "") ? `creation_status is ${p.creation_status}` : undefined,
        ...options,
      },
    );
  },

  applicationRunning(
    api: CmlClient,
    projectId: string,
    applicationId: string,
    options: WaitOptions & { initial?: S["Application"] } = {},
  ) {
    return waitFor(
      () =>
        unwrap(
          api.GET("/api/v2/projects/{project_id}/applications/{application_id}", {
            params: { path: { project_id: projectId, application_id: applicationId } },
          }),
        ),
      {
        what: `application ${applicationId} to be running`,
        status: (a) => a.status,
        until: (a) => a.status === "APPLICATION_RUNNING",
        failWhen: (a) =>
          a.status === "APPLICATION_FAILED" || a.status === "APPLICATION_STOPPED" ? `status ${a.status}` : undefined,
        ...options,
      },
    );
  },

  /** Resolves with the finished run whatever its outcome; the caller decides what a failure means. */
  jobRunFinished(api: CmlClient, projectId: string, jobId: string, runId: string, options: WaitOptions = {}) {
    return waitFor(
      () =>
        unwrap(
          api.GET("/api/v2/projects/{project_id}/jobs/{job_id}/runs/{run_id}", {
            params: { path: { project_id: projectId, job_id: jobId, run_id: runId } },
          }),
        ),
      {
        what: `run ${runId} of job ${jobId} to finish`,
        status: (r) => r.status,
        until: (r) => TERMINAL_RUN_STATUSES.has(r.status ?? ""),
        ...options,
      },
    );
  },

  modelBuildBuilt(api: CmlClient, projectId: string, modelId: string, buildId: string, options: WaitOptions = {}) {
    return waitFor(
      () =>
        unwrap(
          api.GET("/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}", {
            params: { path: { project_id: projectId, model_id: modelId, build_id: buildId } },
          }),
        ),
      {
        what: `build ${buildId} of model ${modelId} to be built`,
        status: (b) => b.status,
        until: (b) => b.status === "built",
        failWhen: (b) => (b.status === "build failed" || b.status === "timedout" ? `status ${b.status}` : undefined),
        ...options,
      },
    );
  },

  modelDeploymentDeployed(
    api: CmlClient,
    ids: { projectId: string; modelId: string; buildId: string; deploymentId: string },
    options: WaitOptions = {},
  ) {
    return waitFor(
      () =>
        unwrap(
          api.GET("/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/deployments/{deployment_id}", {
            params: {
              path: {
                project_id: ids.projectId,
                model_id: ids.modelId,
                build_id: ids.buildId,
                deployment_id: ids.deploymentId,
              },
            },
          }),
        ),
      {
        what: `deployment ${ids.deploymentId} of model ${ids.modelId} to be deployed`,
        status: (d) => d.status,
        until: (d) => d.status === "deployed",
        failWhen: (d) => (d.status === "failed" || d.status === "stopped" ? `status ${d.status}` : undefined),
        ...options,
      },
    );
  },
};
