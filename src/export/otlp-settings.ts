import { type ExportConfig, OTLP_DEFAULTS } from './config.ts';
import type { ClientTls } from '../config-kit/fields.ts';
import { readFileSync } from 'node:fs';
import { registerSecret } from '../secrets/redact.ts';

/** Everything the OTLP sender needs, resolved from the config file, then OTEL_EXPORTER_OTLP_*, then defaults. */
export interface OtlpSettings {
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  timeoutMs: number;
  tls: ClientTls;
}

/**
 * Follows the OTLP exporter specification: the signal-specific variable wins over the generic one;
 * a generic endpoint gets `/v1/logs` appended, a signal-specific one is used as is.
 * Values in the config file win over the environment (they were written for this daemon).
 */
export function resolveOtlpSettings(config: ExportConfig, env: NodeJS.ProcessEnv = process.env): OtlpSettings {
  const pick = (name: string) => env[`OTEL_EXPORTER_OTLP_LOGS_${name}`] ?? env[`OTEL_EXPORTER_OTLP_${name}`];

  let url: string;
  if (config.endpoint) {
    url = config.logsPathIsFull || /\/v1\/logs\/?$/.test(config.endpoint) ? config.endpoint : appendLogsPath(config.endpoint);
  } else if (env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT) {
    url = env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT;
  } else {
    url = appendLogsPath(env.OTEL_EXPORTER_OTLP_ENDPOINT || OTLP_DEFAULTS.endpoint);
  }

  const protocol = config.protocol ?? (pick('PROTOCOL') === 'http/json' ? 'http/json' : OTLP_DEFAULTS.protocol);
  const compression = config.compression ?? (pick('COMPRESSION') === 'none' ? 'none' : OTLP_DEFAULTS.compression);
  const timeoutEnv = pick('TIMEOUT');
  const timeoutMs = config.timeout ?? (timeoutEnv && /^\d+$/.test(timeoutEnv) ? Number(timeoutEnv) : OTLP_DEFAULTS.timeoutMs);

  const headers = { ...parseHeaderList(env.OTEL_EXPORTER_OTLP_HEADERS), ...parseHeaderList(env.OTEL_EXPORTER_OTLP_LOGS_HEADERS), ...config.headers };
  for (const value of Object.values(headers)) registerSecret(value);

  const tls: ClientTls = {
    ca: config.tls?.ca ?? readPem(pick('CERTIFICATE')),
    cert: config.tls?.cert ?? readPem(pick('CLIENT_CERTIFICATE')),
    key: config.tls?.key ?? readPem(pick('CLIENT_KEY')),
  };
  registerSecret(tls.key);
  return { url, protocol, headers, compression, timeoutMs, tls };
}

function appendLogsPath(base: string): string {
  return base.replace(/\/+$/, '') + '/v1/logs';
}

/** `key1=value1,key2=value2`, values URL-encoded (W3C Baggage format, as the spec says). */
export function parseHeaderList(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key) out[key] = safeDecode(value);
  }
  return out;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function readPem(path: string | undefined): string | undefined {
  return path ? readFileSync(path, 'utf8') : undefined;
}
