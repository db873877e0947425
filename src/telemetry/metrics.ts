import { metrics, type Attributes, type Counter, type Histogram } from '@opentelemetry/api';
import type { StreamMetrics } from '../core/metrics.ts';

/**
 * Per-stream self-telemetry through the OpenTelemetry metrics API (`StreamMetrics`, the core's
 * interface). Without a MeterProvider these are no-ops; `telemetry/setup` installs the SDK with OTLP
 * and Prometheus readers.
 */
const meter = () => metrics.getMeter('auditrelay');

interface Instruments {
  exported: Counter;
  rejected: Counter;
  setAside: Counter;
  deduplicated: Counter;
  requests: Counter;
  throttled: Counter;
  eventLag: Histogram;
  cursorAge: Histogram;
  exportDuration: Histogram;
  exportRetries: Counter;
}

let instruments: Instruments | undefined;

/** Audit lag runs from a minute (near real time) to days (blobs listed late, login events reported late). */
const LAG_BUCKETS_S = [30, 60, 300, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400, 172_800, 604_800];
const REQUEST_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function getInstruments(): Instruments {
  instruments ??= {
    exported: meter().createCounter('auditrelay.records.exported', { description: 'Records the OTLP endpoint accepted' }),
    rejected: meter().createCounter('auditrelay.records.rejected', { description: 'Records the endpoint refused for good (dead-lettered)' }),
    setAside: meter().createCounter('auditrelay.records.set_aside', { description: 'Blobs/pages set aside after repeated failures' }),
    deduplicated: meter().createCounter('auditrelay.records.deduplicated', { description: 'Records dropped as already exported' }),
    requests: meter().createCounter('auditrelay.api.requests', { description: 'Source API requests by operation and status' }),
    throttled: meter().createCounter('auditrelay.api.throttled', { description: 'Throttling answers from a source API' }),
    eventLag: meter().createHistogram('auditrelay.event.lag', { unit: 's', description: 'Export time minus event time', advice: { explicitBucketBoundaries: LAG_BUCKETS_S } }),
    cursorAge: meter().createHistogram('auditrelay.cursor.age', { unit: 's', description: 'Now minus the committed cursor', advice: { explicitBucketBoundaries: LAG_BUCKETS_S } }),
    exportDuration: meter().createHistogram('auditrelay.export.duration', {
      unit: 's',
      description: 'OTLP export requests by outcome (accepted, partial, retry, too-large, bad-data)',
      advice: { explicitBucketBoundaries: REQUEST_BUCKETS_S },
    }),
    exportRetries: meter().createCounter('auditrelay.export.retries', { description: 'OTLP export attempts that failed transiently and were retried' }),
  };
  return instruments;
}

/** Must be called after a MeterProvider is installed, so instruments bind to it. */
export function resetInstruments(): void {
  instruments = undefined;
}

export function streamMetrics(streamId: string, source: string): StreamMetrics {
  const attrs: Attributes = { 'auditrelay.stream': streamId, 'auditrelay.source': source };
  return {
    recordsExported: (n) => getInstruments().exported.add(n, attrs),
    recordsRejected: (n) => getInstruments().rejected.add(n, attrs),
    recordsSetAside: (n) => getInstruments().setAside.add(n, attrs),
    recordsDeduplicated: (n) => getInstruments().deduplicated.add(n, attrs),
    apiRequest: (operation, status) => getInstruments().requests.add(1, { ...attrs, operation, status }),
    throttled: (operation) => getInstruments().throttled.add(1, { ...attrs, operation }),
    eventLagMs: (ms) => getInstruments().eventLag.record(ms / 1000, attrs),
    cursorAgeMs: (ms) => getInstruments().cursorAge.record(ms / 1000, attrs),
  };
}

/** The OTLP sink's request timings and retries (not per stream: batches are shared). */
export const exportMetrics = {
  request: (outcome: string, ms: number) => getInstruments().exportDuration.record(ms / 1000, { outcome }),
  retry: () => getInstruments().exportRetries.add(1),
};
