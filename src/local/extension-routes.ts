/**
 * Local extensions: endpoints CML does not have (the spec has no log or application-URL operations), kept
 * under the same `/api/v2/projects/...` paths and documented in README.md. They need the same Bearer key.
 */
import { compileRoute, type Route } from "./spec.js";

export const EXTENSION_ROUTES: readonly Route[] = [
  // What this platform adds to CML's API, so a client can tell it from a workspace by asking, not by its address.
  compileRoute("GET", "/api/v2/cml-lab/platform", "LocalGetPlatform"),
  compileRoute("GET", "/api/v2/projects/{project_id}/jobs/{job_id}/runs/{run_id}/logs", "LocalGetJobRunLogs"),
  compileRoute("GET", "/api/v2/projects/{project_id}/applications/{application_id}/logs", "LocalGetApplicationLogs"),
  compileRoute(
    "GET",
    "/api/v2/projects/{project_id}/applications/{application_id}/endpoint",
    "LocalGetApplicationEndpoint",
  ),
  compileRoute(
    "GET",
    "/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/logs",
    "LocalGetModelBuildLogs",
  ),
  compileRoute(
    "GET",
    "/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/deployments/{deployment_id}/logs",
    "LocalGetModelDeploymentLogs",
  ),
];
