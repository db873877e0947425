/**
 * What a stream counts and measures, as the core sees it; `telemetry/metrics.ts` records it through
 * the OpenTelemetry metrics API.
 */
export interface StreamMetrics {
  recordsExported(n: number): void;
  recordsRejected(n: number): void;
  recordsSetAside(n: number): void;
  recordsDeduplicated(n: number): void;
  apiRequest(operation: string, status: string): void;
  throttled(operation: string): void;
  /** Export time minus event time, per record. */
  eventLagMs(ms: number): void;
  /** How far behind now the stream's committed cursor is. */
  cursorAgeMs(ms: number): void;
}

/** Counts nothing: for a runner built without telemetry (tests). */
export const NO_METRICS: StreamMetrics = {
  recordsExported: () => undefined,
  recordsRejected: () => undefined,
  recordsSetAside: () => undefined,
  recordsDeduplicated: () => undefined,
  apiRequest: () => undefined,
  throttled: () => undefined,
  eventLagMs: () => undefined,
  cursorAgeMs: () => undefined,
};
