import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exportSchema } from '../../src/export/config.ts';
import type { AuditRecord } from '../../src/core/record.ts';
import { DeadLetterFile } from '../../src/export/dead-letter.ts';
import { ResourceCache } from '../../src/export/encode.ts';
import { OtlpSender } from '../../src/export/otlp-sender.ts';
import { resolveOtlpSettings } from '../../src/export/otlp-settings.ts';
import { OtlpSink } from '../../src/export/sink.ts';
import { silentLogger } from '../../src/telemetry/log.ts';
import { type OtlpSink as TestSink, startOtlpSink } from '../support/otlp-sink.ts';

const records = (n: number, prefix = 'r'): AuditRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    uid: `${prefix}-${i}`,
    timeUnixMs: Date.parse('2026-11-22T05:00:00.123Z') + i,
    observedUnixMs: Date.parse('2026-11-22T06:00:00Z'),
    eventName: 'o365.audit.Exchange',
    severityNumber: 9,
    attributes: { 'user.name': `user${i}@contoso.com`, 'o365.audit.record_type': 2, tags: ['a', 'b'] },
    body: { Id: `${prefix}-${i}`, Nested: { Null: null, List: [1, 'two', false] }, Float: 1.5 },
  }));

let sink: TestSink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function exporter(protocol: 'http/protobuf' | 'http/json', compression: 'gzip' | 'none' = 'gzip') {
  sink = await startOtlpSink();
  const dir = mkdtempSync(join(tmpdir(), 'dl-'));
  const settings = resolveOtlpSettings(exportSchema.parse({ endpoint: sink.endpoint, protocol, compression, timeout: '2s' }), {});
  const deadLetter = new DeadLetterFile(join(dir, 'dead.ndjson'));
  const out = new OtlpSink(new OtlpSender(settings), new ResourceCache(), {
    maxBatchRecords: 4,
    concurrency: 2,
    retry: { initialMs: 20, maxMs: 100, multiplier: 2 },
    deadLetter,
    log: silentLogger(),
  });
  return { out, deadLetter, sink };
}

const resource = { 'cloud.account.id': 'tenant-1' };

describe('OTLP export through a real HTTP endpoint', () => {
  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`${protocol}: delivers records with uid, event name, timestamps, attributes and an unchanged body`, async () => {
      const { out, sink } = await exporter(protocol);
      const report = await out.send('s1', resource, records(10), new AbortController().signal);
      expect(report).toEqual({ accepted: 10, rejected: 0 });
      expect(sink.uids().sort()).toEqual(records(10).map((r) => r.uid).sort());
      const first = sink.records.find((r) => r.attributes['log.record.uid'] === 'r-0')!;
      expect(first.eventName).toBe('o365.audit.Exchange');
      expect(first.timeUnixNano).toBe(BigInt(Date.parse('2026-11-22T05:00:00.123Z')) * 1_000_000n);
      expect(first.attributes['user.name']).toBe('user0@contoso.com');
      expect(first.attributes['tags']).toEqual(['a', 'b']);
      expect(first.body).toEqual({ Id: 'r-0', Nested: { Null: null, List: [1, 'two', false] }, Float: 1.5 });
      expect(first.resource['cloud.account.id']).toBe('tenant-1');
      expect(first.resource['service.name']).toBe('auditrelay');
      await out.close();
    });
  }

  it('holds records through 503 with Retry-After and delivers each once when the endpoint recovers', async () => {
    const { out, sink } = await exporter('http/protobuf');
    sink.setMode({ kind: 'status', status: 503, retryAfter: '0' });
    const pending = out.send('s1', resource, records(6), new AbortController().signal);
    await new Promise((r) => setTimeout(r, 150));
    expect(sink.uids()).toEqual([]);
    sink.setMode({ kind: 'ok' });
    expect(await pending).toEqual({ accepted: 6, rejected: 0 });
    expect(sink.uids().sort()).toEqual(records(6).map((r) => r.uid).sort());
    expect(sink.requests.get(503)).toBeGreaterThan(0);
    await out.close();
  });

  it('isolates records an endpoint refuses with 400 into the dead-letter file, with the reason', async () => {
    const { out, sink, deadLetter } = await exporter('http/protobuf');
    sink.setMode({ kind: 'status', status: 400 });
    const report = await out.send('s1', resource, records(3, 'bad'), new AbortController().signal);
    expect(report).toEqual({ accepted: 0, rejected: 3 });
    const lines = readFileSync(deadLetter.path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.record.uid).sort()).toEqual(['bad-0', 'bad-1', 'bad-2']);
    expect(lines[0].reason).toMatch(/HTTP 400/);
    await out.close();
  });

  it('keeps a partially rejected batch in the dead-letter file, flagged, and moves on', async () => {
    const { out, sink, deadLetter } = await exporter('http/json', 'none');
    sink.setMode({ kind: 'partial', rejected: 1 });
    const report = await out.send('s1', resource, records(2), new AbortController().signal);
    expect(report).toEqual({ accepted: 1, rejected: 1 });
    const lines = readFileSync(deadLetter.path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0].partial).toBe(true);
    await out.close();
  });

  it('gives up waiting only when told to stop', async () => {
    const { out, sink } = await exporter('http/protobuf');
    sink.setMode({ kind: 'status', status: 502 });
    const abort = new AbortController();
    const pending = out.send('s1', resource, records(1), abort.signal);
    setTimeout(() => abort.abort(), 100);
    await expect(pending).rejects.toThrow();
    expect(sink.uids()).toEqual([]);
    await out.close();
  });
});
