import { z } from 'zod';
import { duration } from '../config-kit/fields.ts';

/** `telemetry` in the config file: the daemon's own health, readiness and metrics. Every default is here, once. */
export const telemetrySchema = z
  .object({
    httpAddr: z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT')
      .default('127.0.0.1:9464')
      .describe('Serve /healthz, /readyz and /metrics (Prometheus) here; port 0 picks a free one. `run --http-addr` overrides'),
    otlpEndpoint: z
      .string()
      .optional()
      .describe('Also push metrics over OTLP/HTTP (base URL, /v1/metrics appended). Default: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT; neither: Prometheus only'),
    metricsInterval: duration('60s').default(60_000).describe('How often metrics are pushed over OTLP'),
    atRiskHorizon: duration('24h')
      .default(24 * 3_600_000)
      .describe('Blobs not yet fetched that the source deletes within this time count as at risk (gauge and status)'),
  })
  .strict();

export type TelemetryConfig = z.infer<typeof telemetrySchema>;
