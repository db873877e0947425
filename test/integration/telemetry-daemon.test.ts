import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type RunningEmulators, startEmulators } from '../../src/emulators.ts';
import { restoreState } from '../../src/sources/o365/state.ts';
import { FileStateStore } from '../../src/state/file-store.ts';
import { completenessKey, parseCompleteness } from '../../src/telemetry/completeness.ts';
import type { StatusReport } from '../../src/telemetry/status.ts';
import { type OtlpSink, startOtlpSink } from '../support/otlp-sink.ts';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

interface Running {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  exit: Promise<number | null>;
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function world(options: { shutdownTimeout?: string } = {}): Promise<{ emulators: RunningEmulators; sink: OtlpSink; config: string; state: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'auditrelay-telemetry-'));
  const emulators = await startEmulators({ dir, seed: 11, faults: false, o365: { backlog: '1h', backlogRecords: 200, blobInterval: 0 }, google: { history: 0, eventsPerMinute: 0, live: false } });
  const sink = await startOtlpSink();
  cleanup.push(() => emulators.close(), () => sink.close());
  const doc = parse(readFileSync(emulators.config, 'utf8'));
  // Office 365 only: the Google emulator makes no data here.
  doc.sources.google = [];
  doc.sources.o365[0].pollInterval = '300ms';
  doc.telemetry = { httpAddr: '127.0.0.1:0' };
  doc.log = { level: 'info' };
  doc.shutdownTimeout = options.shutdownTimeout ?? '5s';
  doc.export = { retryInitial: '100ms', retryMax: '1s' };
  const config = join(dir, 'telemetry.yaml');
  writeFileSync(config, stringify(doc));
  return { emulators, sink, config, state: doc.state.path };
}

function runDaemon(config: string, sinkEndpoint: string): Running {
  const child = spawn(process.execPath, [CLI, 'run', '--config', config], {
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: sinkEndpoint },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let buffer = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ raw: line });
      }
      nl = buffer.indexOf('\n');
    }
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exit;
    }
  });
  return { child, logs, exit };
}

async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: () => string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what()}`);
}

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('auditrelay run: health, metrics, completeness and shutdown (child process)', () => {
  it('serves /healthz, /readyz and /metrics, keeps the completeness ledger, and checkpoints on SIGTERM', async () => {
    const w = await world();
    const daemon = runDaemon(w.config, w.sink.endpoint);
    const address = await waitFor(
      () => daemon.logs.find((l) => l['msg'] === 'serving health and metrics')?.['address'] as string | undefined,
      () => `the health server; logs: ${JSON.stringify(daemon.logs.slice(-5))}`,
    );
    const base = `http://${address}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);

    // Everything the emulator holds reaches the sink.
    await waitFor(
      () => {
        const truth = w.emulators.truth();
        const got = new Set(w.sink.uids());
        return truth.length > 0 && truth.every((u) => got.has(u));
      },
      () => `the sink to hold all ${w.emulators.truth().length} records (has ${w.sink.uids().length})`,
    );

    const ready = await fetch(`${base}/readyz`);
    const readyBody = (await ready.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> };
    expect(ready.status).toBe(200);
    expect(readyBody).toMatchObject({ ready: true, checks: { config: { ok: true }, state: { ok: true }, export: { ok: true } } });

    const stream = (await waitFor(
      async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        return metricValue(text, 'auditrelay_subscription_enabled') === 1 && text;
      },
      () => 'the subscription gauge',
    )) as string;
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(metricValue(text, 'auditrelay_records_exported_total')).toBeGreaterThan(0);
    expect(metricValue(text, 'auditrelay_api_requests_total', { operation: 'content/get', status: '200' })).toBeGreaterThan(0);
    expect(metricValue(text, 'auditrelay_stream_at_risk')).toBe(0);
    expect(metricValue(text, 'auditrelay_stream_running', { phase: 'running' })).toBe(1);
    expect(metricValue(text, 'auditrelay_budget_limit')).toBeGreaterThan(0);
    expect(text).toContain('auditrelay_export_duration_bucket{outcome="accepted"');
    expect(text).toContain('auditrelay_event_lag_bucket');
    expect(text).toContain('service_name="auditrelay"');
    expect(stream).toBeTruthy();

    // status reads the store while the daemon holds its lock.
    const live = spawnSync(process.execPath, [CLI, 'status', '--config', w.config, '--json'], { encoding: 'utf8' });
    expect(live.status, live.stderr).toBe(0);
    const report = JSON.parse(live.stdout) as StatusReport;
    expect(report.streams.map((s) => s.id).some((id) => id.startsWith('o365/'))).toBe(true);

    daemon.child.kill('SIGTERM');
    expect(await daemon.exit).toBe(0);
    expect(daemon.logs.some((l) => l['msg'] === 'stopped cleanly')).toBe(true);

    // Checkpointed: every blob done, and the ledger counts exactly what the sink accepted.
    const store = await FileStateStore.open(w.state);
    try {
      const streams = await store.keys('o365/');
      expect(streams.length).toBeGreaterThan(0);
      let records = 0;
      for (const id of streams) {
        if (id.startsWith('o365/')) {
          const state = restoreState(await store.get(id));
          expect(state.listedUntil).toBeDefined();
          expect(state.pending).toEqual([]);
        }
        const ledger = parseCompleteness(await store.get(completenessKey(id)));
        for (const counts of Object.values(ledger.hours)) {
          expect(counts.exported).toBe(counts.listed);
          records += counts.records;
        }
      }
      expect(records).toBe(w.sink.uids().length);
    } finally {
      await store.close();
    }

    const after = spawnSync(process.execPath, [CLI, 'status', '--config', w.config], { encoding: 'utf8' });
    expect(after.status, after.stderr).toBe(0);
    expect(after.stdout).toContain('no gaps, losses, set-aside or at-risk data');
  }, 120_000);

  it('on SIGTERM stops fetching but delivers what it fetched, and checkpoints exactly what the endpoint accepted', async () => {
    // Every answer takes 800 ms, and a blob in flight at SIGTERM is delivered to its end: one of
    // 1,000–5,000 records (the emulator makes a few) is 2–10 sequential requests of 500, queued behind the other
    // slots' requests on 4 export slots. The deadline is not what this test is about (the next one is).
    const w = await world({ shutdownTimeout: '20s' });
    w.sink.setMode({ kind: 'delay', ms: 800 });
    const daemon = runDaemon(w.config, w.sink.endpoint);
    await waitFor(() => w.sink.uids().length > 0, () => 'a first export to be answered');
    daemon.child.kill('SIGTERM');
    expect(await daemon.exit).toBe(0);
    expect(daemon.logs.some((l) => l['msg'] === 'stopped cleanly')).toBe(true);
    // Requests in flight at SIGTERM were answered and counted, not cut off: the ledger written at the
    // last checkpoint holds exactly the records the sink accepted.
    const store = await FileStateStore.open(w.state);
    try {
      let records = 0;
      for (const id of await store.keys('o365/')) {
        for (const counts of Object.values(parseCompleteness(await store.get(completenessKey(id))).hours)) records += counts.records;
      }
      expect(records).toBe(w.sink.uids().length);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('stops within shutdownTimeout on SIGTERM while the endpoint refuses everything, without advancing past undelivered blobs', async () => {
    const w = await world();
    w.sink.setMode({ kind: 'status', status: 503 });
    const daemon = runDaemon(w.config, w.sink.endpoint);
    await waitFor(() => (w.sink.requests.get(503) ?? 0) > 2, () => 'export attempts at the sink');
    daemon.child.kill('SIGTERM');
    expect(await daemon.exit).toBe(0);
    // Deliveries kept retrying until shutdownTimeout, then the daemon gave up on them and exited.
    expect(daemon.logs.some((l) => l['msg'] === 'stopped at the deadline; undelivered work resumes from the last checkpoint')).toBe(true);
    const store = await FileStateStore.open(w.state);
    try {
      const streams = (await store.keys('o365/')).filter((k) => !k.startsWith('completeness/'));
      expect(streams.length).toBeGreaterThan(0);
      let pending = 0;
      for (const id of streams) {
        const state = restoreState(await store.get(id));
        expect(Object.keys(state.done)).toEqual([]);
        pending += state.pending.length;
      }
      // The listing was checkpointed: the blobs wait in the ledger for the next start.
      expect(pending).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  }, 120_000);
});
