import { describe, expect, it } from 'vitest';
import { classifyResponse } from '../../src/export/outcome.ts';
import { parseHeaderList, resolveOtlpSettings } from '../../src/export/otlp-settings.ts';
import { exportSchema } from '../../src/export/config.ts';
import { backoffDelay, parseRetryAfter } from '../../src/core/backoff.ts';

const now = Date.parse('2026-11-22T05:00:00Z');

describe('classifyResponse (OTLP/HTTP answers)', () => {
  it('accepts a 2xx, and surfaces a partial success the SDK would report as success', () => {
    expect(classifyResponse(200, null, {}, '', now)).toEqual({ kind: 'accepted' });
    expect(classifyResponse(200, null, { rejectedLogRecords: 3, errorMessage: 'bad attr' }, '', now)).toEqual({ kind: 'partial', rejected: 3, message: 'bad attr' });
  });

  it('retries 429/5xx with Retry-After, and waits out auth errors rather than dropping data', () => {
    expect(classifyResponse(429, '2', {}, '', now)).toMatchObject({ kind: 'retry', afterMs: 2000 });
    expect(classifyResponse(503, null, {}, '', now)).toMatchObject({ kind: 'retry' });
    expect(classifyResponse(401, null, {}, 'no', now)).toMatchObject({ kind: 'retry', misconfigured: true });
  });

  it('refuses data for good only when the endpoint says the data is bad', () => {
    expect(classifyResponse(400, null, {}, 'invalid', now).kind).toBe('bad-data');
    expect(classifyResponse(413, null, {}, '', now).kind).toBe('too-large');
  });
});

describe('OTLP settings from config and OTEL_EXPORTER_OTLP_*', () => {
  const empty = exportSchema.parse({});
  it('appends /v1/logs to the generic endpoint and uses the signal endpoint as is', () => {
    expect(resolveOtlpSettings(empty, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }).url).toBe('http://c:4318/v1/logs');
    expect(resolveOtlpSettings(empty, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://d/custom' }).url).toBe('http://d/custom');
    expect(resolveOtlpSettings(empty, {}).url).toBe('http://localhost:4318/v1/logs');
  });

  it('reads protocol, compression, timeout and headers, the signal-specific variable winning', () => {
    const s = resolveOtlpSettings(empty, {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=x%20y',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'b=2',
    });
    expect(s).toMatchObject({ protocol: 'http/json', compression: 'none', timeoutMs: 2500, headers: { a: '1', b: '2' } });
  });

  it('lets the config file win over the environment', () => {
    const cfg = exportSchema.parse({ endpoint: 'https://e:4318', protocol: 'http/protobuf', compression: 'gzip' });
    expect(resolveOtlpSettings(cfg, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toMatchObject({
      url: 'https://e:4318/v1/logs',
      protocol: 'http/protobuf',
    });
  });

  it('parses W3C-style header lists', () => {
    expect(parseHeaderList('Authorization=Bearer%20abc , x-k = v')).toEqual({ Authorization: 'Bearer abc', 'x-k': 'v' });
  });
});

describe('backoff', () => {
  it('grows to its cap, never to zero', () => {
    const p = { initialMs: 1000, maxMs: 8000, multiplier: 2 };
    expect(backoffDelay(p, 0, () => 1)).toBe(1000);
    expect(backoffDelay(p, 10, () => 1)).toBe(8000);
    expect(backoffDelay(p, 10, () => 0)).toBe(800);
  });
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 05:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
