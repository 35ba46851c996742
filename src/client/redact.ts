// Redaction is shared with the engine and the workloads: one rule, one marker.
export { redact } from "../shared/secrets.js";
