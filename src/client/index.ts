// The only import path for deploy, workloads and local: everything they need from the CML API.

export {
  type CmlClient,
  type CmlClientOptions,
  createCmlClient,
  DEFAULT_TIMEOUT_MS,
  normaliseBaseUrl,
} from "./client.js";
export { type CmlConnection, connectionFromEnv, createCmlClientFromEnv } from "./env.js";
export {
  ApiError,
  formatDuration,
  grpcCodeName,
  isApiError,
  RETRYABLE_STATUSES,
  WaitFailedError,
  WaitTimeoutError,
} from "./errors.js";
export { checkProjectPath, downloadProjectFile, listProjectDir, uploadProjectFile } from "./files.js";
export { type Findable, type FindableKind, findApplicationBySubdomain, findOneByName, listByFilter } from "./find.js";
export { listAll, paginate } from "./paginate.js";
export { apiPath, type RawRequest, rawRequest } from "./raw.js";
export { redact } from "./redact.js";
export { DEFAULT_RETRY, isIdempotent, type RetryOptions } from "./retry.js";
export { chooseRuntime, compareVersions, type RuntimeSpec, resolveRuntime } from "./runtime.js";
export type { components, operations, paths } from "./schema.gen.js";
export { type FetchResult, unwrap } from "./unwrap.js";
export {
  DEFAULT_WAIT_INTERVAL_MS,
  DEFAULT_WAIT_TIMEOUT_MS,
  TERMINAL_RUN_STATUSES,
  type WaitOptions,
  type WaitSpec,
  waitFor,
  waits,
} from "./wait.js";
export { envFromWire, envToWire, type RuntimePair, runtimePair, type Schemas } from "./wire.js";
