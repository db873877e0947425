import { z } from 'zod';
import { siemSchema } from './siem.ts';
import { googleCustomerSchema } from '../sources/google/config.ts';
import { o365TenantSchema } from '../sources/o365/config.ts';
import { clientTls, duration } from './types.ts';

/**
 * The whole daemon configuration: every default of the file is written here, once, beside its doc
 * (each source's own in `sources/<kind>/config.ts`); the retry constants the file does not set are
 * in `core/retry-defaults.ts`. `config/auditrelay.schema.json` is generated from this file
 * (`npm run schema`) for editors.
 */

/**
 * Export settings the file leaves out come from OTEL_EXPORTER_OTLP_[LOGS_]* (the OTLP exporter
 * specification), and only then from these (`export/otlp-settings.ts` applies the order).
 */
export const OTLP_DEFAULTS = {
  endpoint: 'http://localhost:4318',
  protocol: 'http/protobuf',
  compression: 'gzip',
  timeoutMs: 10_000,
} as const;

export const exportSchema = z
  .object({
    mode: z.enum(['otlp', 'console']).default('otlp').describe('otlp: send to an OTLP/HTTP endpoint; console: one readable line per record on stdout'),
    endpoint: z
      .string()
      .optional()
      .describe('Base URL (…/v1/logs is appended) or full logs URL. Default: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, http://localhost:4318'),
    logsPathIsFull: z.boolean().optional().describe('Treat `endpoint` as the full logs URL (no /v1/logs appended)'),
    protocol: z.enum(['http/protobuf', 'http/json']).optional().describe('Default: OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, http/protobuf'),
    headers: z.record(z.string(), z.string()).optional().describe('Extra request headers (merged over OTEL_EXPORTER_OTLP_HEADERS)'),
    compression: z.enum(['gzip', 'none']).optional().describe('Default: OTEL_EXPORTER_OTLP_COMPRESSION, gzip'),
    timeout: duration('10s').optional().describe('Per request. Default: OTEL_EXPORTER_OTLP_TIMEOUT, 10s'),
    tls: clientTls.optional(),
    // 500, not 1,000: every fetch slot holds up to one batch of mapped records while it is exported,
    // so this × fetchSlots bounds the records in memory (measured: ~30 MB less peak RSS on a 1 M-record
    // drain, same throughput).
    maxBatchRecords: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(500)
      .describe('Records per export request; with fetchSlots it bounds the records held in memory at once'),
    maxBatchBytes: z.number().int().min(1024).default(4 * 1024 * 1024).describe('Raw record bytes per request before compression'),
    concurrency: z.number().int().min(1).max(64).default(4).describe('Export requests in flight at once'),
    retryInitial: duration('1s').default(1000),
    retryMax: duration('1m').default(60_000),
    siem: siemSchema.prefault({}).describe('Attributes Splunk and Elastic route and deduplicate by'),
    deadLetterFile: z.string().optional().describe('Records refused for good go here, one JSON line each (default: <state.path>/dead-letter.ndjson)'),
  })
  .strict();

export const stateSchema = z
  .object({
    kind: z
      .enum(['file', 'postgres'])
      .default('file')
      .describe('file: embedded store, one daemon; postgres: shared by N replicas (AUDITRELAY_STATE_URL=postgres://... selects it too)'),
    path: z.string().default('./state').describe('Folder for the embedded store (relative to the config file); with postgres, only the default dead-letter file goes here'),
    url: z
      .string()
      .optional()
      .describe('postgres://user@host:5432/database (password via an env reference or PGPASSWORD). PG* variables fill in what it leaves out; AUDITRELAY_STATE_URL overrides it'),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lower-case identifier (a-z, 0-9, _)')
      .default('auditrelay')
      .describe('PostgreSQL schema for the tables (created and migrated by the daemon)'),
    replicaId: z.string().min(1).optional().describe('This replica\'s name in leases and logs (default: host name, pid and a random suffix)'),
    leaseTtl: duration('15s').default(15_000).describe('postgres: a replica that has not renewed its stream leases for this long loses them to the others'),
    leaseRenewInterval: duration('5s').default(5_000).describe('postgres: how often leases are renewed and streams rebalanced (at most half of leaseTtl)'),
  })
  .strict()
  .refine((s) => s.leaseRenewInterval * 2 <= s.leaseTtl, { path: ['leaseRenewInterval'], message: 'must be at most half of leaseTtl' });

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

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    state: stateSchema.prefault({}),
    export: exportSchema.default(exportSchema.parse({})),
    log: z
      .object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
    telemetry: telemetrySchema.prefault({}),
    shutdownTimeout: duration('30s').default(30_000).describe('On SIGTERM/SIGINT: how long to finish in-flight deliveries and checkpoint before exiting'),
    fetchSlots: z
      .number()
      .int()
      .min(1)
      .default(16)
      .describe('Blobs/pages held in memory at once across all streams: the bound on memory while the endpoint is slow'),
    sources: z
      .object({
        o365: z.array(o365TenantSchema).default([]),
        google: z.array(googleCustomerSchema).default([]),
      })
      .strict()
      .default({ o365: [], google: [] }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const count = Object.values(c.sources).reduce((n, list) => n + (list as unknown[]).length, 0);
    if (count === 0) ctx.addIssue({ code: 'custom', path: ['sources'], message: 'configure at least one source (sources.o365 or sources.google)' });
  });

export type Config = z.infer<typeof configSchema>;
export type ExportConfig = z.infer<typeof exportSchema>;
export type TelemetryConfig = z.infer<typeof telemetrySchema>;
