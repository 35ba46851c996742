/**
 * Test-only fault injection, configured in-process through the object `startLocalPlatform` returns. Nothing
 * on the wire can turn it on, so a running `deploy local up` server never misbehaves on purpose.
 */

export interface FaultCall {
  method: string;
  path: string;
  /** The spec operation, when the path is one. */
  operationId: string | undefined;
}

export interface FaultConfig {
  /** Added before every affected call is handled. */
  latencyMs?: number;
  /** Share of affected calls answered with `errorStatus` (default 503) before they are handled. */
  errorRate?: number;
  errorStatus?: number;
  /** Share of affected calls answered 429 with `Retry-After: retryAfterSeconds` (default 1). */
  rateLimitRate?: number;
  retryAfterSeconds?: number;
  /** Share of affected calls whose connection is destroyed with no answer. */
  dropRate?: number;
  /** `before` (default): the call is not handled. `after`: handled (and persisted), then the answer is lost. */
  dropPhase?: "before" | "after";
  /**
   * The server "crashes" after answering this many affected calls: every later call has its connection
   * dropped, unhandled, until the faults are changed or cleared (the state written so far is kept).
   */
  crashAfterCalls?: number;
  /** Which calls the faults apply to (default: every API call). */
  match?: (call: FaultCall) => boolean;
  /** Stop injecting after this many faults (latency does not count). */
  times?: number;
  /** Deterministic tests pass their own; default Math.random. */
  random?: () => number;
}

export type FaultDecision =
  | { kind: "none" }
  | { kind: "status"; status: number; headers: Record<string, string>; message: string }
  | { kind: "drop"; phase: "before" | "after" };

export interface FaultController {
  set(config: FaultConfig): void;
  clear(): void;
  /** Calls seen since the last set/clear that the faults matched. */
  readonly matchedCalls: number;
  /** Faults injected since the last set/clear. */
  readonly injected: number;
  readonly crashed: boolean;
}

export class Faults implements FaultController {
  private config: FaultConfig = {};
  private matched = 0;
  private count = 0;

  constructor(initial?: FaultConfig) {
    if (initial) this.set(initial);
  }

  set(config: FaultConfig): void {
    this.config = { ...config };
    this.matched = 0;
    this.count = 0;
  }

  clear(): void {
    this.set({});
  }

  get matchedCalls(): number {
    return this.matched;
  }

  get injected(): number {
    return this.count;
  }

  get crashed(): boolean {
    const limit = this.config.crashAfterCalls;
    return limit !== undefined && this.matched >= limit;
  }

  latencyFor(call: FaultCall): number {
    return this.applies(call) ? (this.config.latencyMs ?? 0) : 0;
  }

  decide(call: FaultCall): FaultDecision {
    if (!this.applies(call)) return { kind: "none" };
    const c = this.config;
    if (this.crashed) {
      this.count++;
      return { kind: "drop", phase: "before" };
    }
    this.matched++;
    if (c.times !== undefined && this.count >= c.times) return { kind: "none" };
    const random = c.random ?? Math.random;
    if (c.dropRate && random() < c.dropRate) {
      this.count++;
      return { kind: "drop", phase: c.dropPhase ?? "before" };
    }
    if (c.rateLimitRate && random() < c.rateLimitRate) {
      this.count++;
      const seconds = c.retryAfterSeconds ?? 1;
      return {
        kind: "status",
        status: 429,
        headers: { "Retry-After": String(seconds) },
        message: "too many requests (injected fault)",
      };
    }
    if (c.errorRate && random() < c.errorRate) {
      this.count++;
      return {
        kind: "status",
        status: c.errorStatus ?? 503,
        headers: {},
        message: "service unavailable (injected fault)",
      };
    }
    return { kind: "none" };
  }

  private applies(call: FaultCall): boolean {
    const c = this.config;
    const any = c.latencyMs || c.errorRate || c.rateLimitRate || c.dropRate || c.crashAfterCalls !== undefined;
    if (!any) return false;
    return c.match ? c.match(call) : true;
  }
}
