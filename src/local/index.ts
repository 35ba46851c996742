// The local platform's public surface: start it in-process (tests, `npm start`) or through `deploy local up`.
export type { FaultCall, FaultConfig, FaultController } from "./faults.js";
export { API_KEY_FILE, type LocalPlatform, type LocalPlatformOptions, startLocalPlatform } from "./platform.js";
export { NODE_RUNTIME, PYTHON_RUNTIME, RUNTIMES } from "./runtimes.js";
export { matchOperation, responseProblems } from "./spec.js";
