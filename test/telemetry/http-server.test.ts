import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStateStore } from '../../src/state/file-store.ts';
import { ExportWatch } from '../../src/telemetry/export-watch.ts';
import { daemonReadiness, parseAddr, type RunningHttpServer, startHttpServer } from '../../src/telemetry/http-server.ts';
import { silentLogger } from '../../src/telemetry/log.ts';
import { exportMetrics, streamMetrics } from '../../src/telemetry/metrics.ts';
import { type MetricsSetup, otlpMetricsUrl, setupMetrics } from '../../src/telemetry/setup.ts';

const TELEMETRY = { httpAddr: '127.0.0.1:0', metricsInterval: 60_000, atRiskHorizon: 24 * 3_600_000 };
const NOW = Date.parse('2026-11-20T10:00:00Z');
const STREAM = 'o365/t/Audit.Exchange';

const open: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

async function serve(ready = {}, metrics?: MetricsSetup): Promise<RunningHttpServer> {
  const server = await startHttpServer({
    addr: '127.0.0.1:0',
    metrics: metrics?.handleMetrics ?? ((_req, res) => res.end('')),
    ready,
    log: silentLogger(),
  });
  open.push(() => server.close());
  return server;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('metrics SDK and /metrics', () => {
  it('serves the per-stream counters and the gauges each stream publishes, with the logs\' resource', async () => {
    let horizonAsked = 0;
    const metrics = setupMetrics(
      TELEMETRY,
      {
        health: () => [
          {
            id: STREAM,
            kind: 'o365',
            health: {
              watermark: NOW - 90_000,
              pending: 4,
              setAside: 1,
              subscribed: false,
              losses: [{ kind: 'expired', from: 0, to: 0, detail: '', at: 0 }],
              atRisk: (_now, horizon) => {
                horizonAsked = horizon;
                return 2;
              },
            },
          },
        ],
        status: () => [
          { id: STREAM, phase: 'restarting', leased: true, running: true },
          // A lease held for a stream no loop runs: what the orphan gauge exists to show.
          { id: `${STREAM}-2`, phase: 'elsewhere', leased: true, running: false },
        ],
        budgets: () => ({ all: () => [{ key: 'o365/t', requestsPerMinute: 2000, usedLastMinute: () => 17, heldForMs: () => 2500 }] }),
        replicaId: 'replica-a',
      },
      {},
      () => NOW,
    );
    open.push(() => metrics.shutdown(1000));
    expect(metrics.otlpUrl).toBeUndefined();
    const m = streamMetrics(STREAM, 'o365');
    m.recordsExported(10);
    m.recordsSetAside(2);
    m.recordsDeduplicated(3);
    m.apiRequest('content/get', '200');
    m.throttled('content/get');
    m.eventLagMs(120_000);
    m.cursorAgeMs(60_000);
    exportMetrics.request('accepted', 25);
    exportMetrics.retry();

    const server = await serve({}, metrics);
    const text = await (await fetch(`http://${server.address}/metrics`)).text();
    const labels = `auditrelay_stream="${STREAM}",auditrelay_source="o365"`;
    for (const line of [
      `auditrelay_records_exported_total{${labels}`,
      `auditrelay_records_set_aside_total{${labels}`,
      `auditrelay_records_deduplicated_total{${labels}`,
      `auditrelay_api_requests_total{${labels},operation="content/get",status="200"`,
      `auditrelay_api_throttled_total{${labels},operation="content/get"`,
      `auditrelay_event_lag_bucket{${labels}`,
      `auditrelay_cursor_age_bucket{${labels}`,
      'auditrelay_export_duration_bucket{outcome="accepted"',
      'auditrelay_export_retries_total',
      'target_info{service_name="auditrelay"',
    ]) {
      expect(text).toContain(line);
    }
    const gauge = (name: string) => new RegExp(`^${name}\\{[^}]*\\} ([0-9.]+)$`, 'm').exec(text)?.[1];
    expect(gauge('auditrelay_stream_watermark_age')).toBe('90');
    expect(gauge('auditrelay_stream_pending')).toBe('4');
    expect(gauge('auditrelay_stream_at_risk')).toBe('2');
    expect(horizonAsked).toBe(24 * 3_600_000);
    expect(gauge('auditrelay_stream_set_aside')).toBe('1');
    expect(gauge('auditrelay_stream_losses')).toBe('1');
    expect(gauge('auditrelay_subscription_enabled')).toBe('0');
    expect(gauge('auditrelay_stream_running')).toBe('0');
    expect(text).toContain('phase="restarting"');
    expect(gauge('auditrelay_budget_used')).toBe('17');
    expect(gauge('auditrelay_budget_limit')).toBe('2000');
    expect(gauge('auditrelay_budget_held')).toBe('2.5');
    expect(text).toContain(`auditrelay_stream_leased{auditrelay_stream="${STREAM}",auditrelay_replica="replica-a"`);
    expect(gauge('auditrelay_streams_leased_not_running')).toBe('1');
  });

  it('pushes over OTLP when an endpoint is configured or in the environment', () => {
    expect(otlpMetricsUrl({ ...TELEMETRY, otlpEndpoint: 'http://c:4318/' }, {})).toBe('http://c:4318/v1/metrics');
    expect(otlpMetricsUrl({ ...TELEMETRY, otlpEndpoint: 'http://c:4318/v1/metrics' }, {})).toBe('http://c:4318/v1/metrics');
    expect(otlpMetricsUrl(TELEMETRY, { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:1/x' })).toBe('http://m:1/x');
    expect(otlpMetricsUrl(TELEMETRY, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://g:4318' })).toBe('http://g:4318/v1/metrics');
    expect(otlpMetricsUrl(TELEMETRY, {})).toBeUndefined();
  });
});

describe('/healthz and /readyz', () => {
  it('answers /healthz, 404 elsewhere, 405 for other methods', async () => {
    const server = await serve();
    const base = `http://${server.address}`;
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/other`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('is ready when the state store takes a write and the export endpoint is reachable, and says which check failed otherwise', async () => {
    const store = await FileStateStore.open(mkdtempSync(join(tmpdir(), 'auditrelay-ready-')));
    open.push(() => store.close());
    const listener = createServer();
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    open.push(() => new Promise((r) => listener.close(r)));
    const reachable = new ExportWatch(`http://127.0.0.1:${(listener.address() as { port: number }).port}`);
    const server = await serve(daemonReadiness(store, reachable));
    const ready = await fetch(`http://${server.address}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { config: { ok: true }, state: { ok: true }, export: { ok: true } } });

    const unreachable = new ExportWatch(`http://127.0.0.1:${await closedPort()}`);
    const readOnly = await FileStateStore.openReadOnly(store.location);
    const failing = await serve(daemonReadiness(readOnly, unreachable));
    const notReady = await fetch(`http://${failing.address}/readyz`);
    expect(notReady.status).toBe(503);
    const body = (await notReady.json()) as { checks: Record<string, { ok: boolean; detail: string }> };
    expect(body.checks['state']).toMatchObject({ ok: false, detail: expect.stringContaining('read-only') });
    expect(body.checks['export']).toMatchObject({ ok: false, detail: 'endpoint does not accept connections' });

    // Once exports flow, their outcome decides (no connect needed).
    unreachable.note('accepted', Date.parse('2026-11-20T10:00:00Z'));
    expect(await unreachable.check(100)).toEqual({ ok: true, detail: 'last export accepted at 2026-11-20T10:00:00.000Z' });
    unreachable.note('retry', Date.parse('2026-11-20T10:01:00Z'));
    expect((await unreachable.check(100)).ok).toBe(false);
    expect(await new ExportWatch(undefined).check(100)).toEqual({ ok: true, detail: 'console output' });
  });

  it('parses HOST:PORT, IPv6 in brackets included', () => {
    expect(parseAddr('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseAddr('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseAddr('9464')).toThrow('HOST:PORT');
    expect(() => parseAddr('h:70000')).toThrow('HOST:PORT');
  });
});

describe('file state store, read-only', () => {
  it('reads while another store holds the lock, refuses writes, and leaves the lock alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditrelay-ro-'));
    const writer = await FileStateStore.open(dir);
    await writer.put('o365/t/x', { v: 1 });
    const reader = await FileStateStore.openReadOnly(dir);
    expect(await reader.get('o365/t/x')).toEqual({ v: 1 });
    expect(await reader.keys('o365/')).toEqual(['o365/t/x']);
    await expect(reader.put('o365/t/x', {})).rejects.toThrow('read-only');
    await reader.close();
    expect(existsSync(join(dir, 'LOCK'))).toBe(true);
    await writer.close();
    await expect(FileStateStore.openReadOnly(join(dir, 'missing'))).rejects.toThrow('no state folder');
  });
});
