import { z } from 'zod';
import { siemSchema } from '../config-kit/siem.ts';
import { clientTls, duration } from '../config-kit/fields.ts';

/** `export` in the config file: where records go and how. Every default is here, once, beside its doc. */

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
    concurrency: z.number().int().min(1).max(64).default(4).describe('Export requests in flight at once'),
    retryInitial: duration('1s').default(1000),
    retryMax: duration('1m').default(60_000),
    siem: siemSchema.prefault({}).describe('Attributes Splunk and Elastic route and deduplicate by'),
    deadLetterFile: z.string().optional().describe('Records refused for good go here, one JSON line each (default: <state.path>/dead-letter.ndjson)'),
  })
  .strict();

export type ExportConfig = z.infer<typeof exportSchema>;
