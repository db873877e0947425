import { gzipSync } from 'node:zlib';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/core/record.ts';
import { encodeRequest, ResourceCache, toLogRecord } from '../../src/export/encode.ts';
import { COLLECTOR_BUILD_TIMEOUT_MS, ensureCollector, type StartedCollector, startCollector } from './collector.ts';

// The real Collector (built by ensure-collector.sh) receiving what auditrelay's encoder produces.

const records: AuditRecord[] = [
  {
    uid: 'o365:Audit.Exchange:3b1d6f2e-0000-4000-8000-000000000001',
    timeUnixMs: Date.UTC(2026, 10, 1, 12, 0, 0, 123),
    observedUnixMs: Date.UTC(2026, 10, 1, 12, 5, 0, 456),
    eventName: 'o365.Exchange.MailItemsAccessed',
    severityNumber: 9,
    severityText: 'INFO',
    attributes: {
      'user.id': 'alice@example.com',
      'client.address': '192.0.2.10',
      'cloud.provider': 'azure',
      'com.splunk.sourcetype': 'o365:management:activity',
      'data_stream.dataset': 'auditrelay.o365',
      'elasticsearch.document_id': 'o365:Audit.Exchange:3b1d6f2e-0000-4000-8000-000000000001',
      'o365.record_type': 50,
      'o365.result_ok': true,
      'user.roles': ['admin', 'auditor'],
    },
    body: { Id: '3b1d6f2e-0000-4000-8000-000000000001', Operation: 'MailItemsAccessed', Nested: { Count: 2, Items: ['a', 'b'] }, Missing: null },
  },
  {
    uid: 'o365:Audit.General:3b1d6f2e-0000-4000-8000-000000000002',
    timeUnixMs: Date.UTC(2026, 10, 1, 12, 0, 1, 0),
    observedUnixMs: Date.UTC(2026, 10, 1, 12, 5, 0, 456),
    eventName: 'o365.General.FileAccessed',
    attributes: { 'user.id': 'bob@example.com' },
    body: 'a plain string body',
  },
];

let dir: string;
let collector: StartedCollector;

beforeAll(async () => {
  await ensureCollector(); // first run on a machine builds the Collector (minutes)
}, COLLECTOR_BUILD_TIMEOUT_MS);

describe('startCollector', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditrelay-collector-'));
    collector = await startCollector(dir);
  }, 120_000);

  afterAll(async () => {
    await collector?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('listens on a loopback address and has written nothing yet', async () => {
    expect(collector.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(collector.logsUrl).toBe(`${collector.endpoint}/v1/logs`);
    expect(await collector.readRecords()).toEqual([]);
  });

  it('receives an OTLP/HTTP protobuf+gzip request from auditrelay\'s encoder and the file exporter writes every record', async () => {
    const resources = new ResourceCache(resourceFromAttributes({ 'service.name': 'auditrelay', 'service.version': '0.0.0-test' }));
    const resource = resources.for({ 'cloud.provider': 'azure', 'cloud.account.id': '0b7b3a1e-2c4d-4e5f-8a9b-0c1d2e3f4a5b' });
    const body = gzipSync(encodeRequest(records.map((r) => toLogRecord(r, resource)), 'http/protobuf'));

    const response = await fetch(collector.logsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-protobuf');
    await response.arrayBuffer();

    const written = await collector.waitForRecords(2);
    expect(written).toHaveLength(2);
    const [first, second] = written;

    expect(first!.attributes).toEqual({
      ...records[0]!.attributes,
      'log.record.uid': records[0]!.uid,
    });
    expect(first!.body).toEqual(records[0]!.body);
    expect(first!.timeUnixMs).toBe(records[0]!.timeUnixMs);
    expect(first!.timeUnixNano).toBe(`${BigInt(records[0]!.timeUnixMs) * 1_000_000n}`);
    expect(first!.observedUnixMs).toBe(records[0]!.observedUnixMs);
    expect(first!.eventName).toBe('o365.Exchange.MailItemsAccessed');
    expect(first!.severityNumber).toBe(9);
    expect(first!.severityText).toBe('INFO');
    expect(first!.resource).toEqual({
      'service.name': 'auditrelay',
      'service.version': '0.0.0-test',
      'cloud.provider': 'azure',
      'cloud.account.id': '0b7b3a1e-2c4d-4e5f-8a9b-0c1d2e3f4a5b',
    });
    expect(first!.scope.name).toBe('auditrelay');

    expect(second!.attributes).toEqual({ 'user.id': 'bob@example.com', 'log.record.uid': records[1]!.uid });
    expect(second!.body).toBe('a plain string body');
    expect(second!.eventName).toBe('o365.General.FileAccessed');
  });

  it('also accepts OTLP/JSON without compression, appending to the same file', async () => {
    const resource = new ResourceCache(resourceFromAttributes({ 'service.name': 'auditrelay' })).for({});
    const json = encodeRequest([toLogRecord({ ...records[1]!, uid: 'json-1' }, resource)], 'http/json');
    const response = await fetch(collector.logsUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
    expect(response.status).toBe(200);
    await response.arrayBuffer();

    const written = await collector.waitForRecords(3);
    expect(written.map((r) => r.attributes['log.record.uid'])).toEqual([records[0]!.uid, records[1]!.uid, 'json-1']);
  });

  it('answers 400 to a request that is not OTLP, and writes nothing for it', async () => {
    const response = await fetch(collector.logsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0xff, 0xff, 0xff]),
    });
    expect(response.status).toBe(400);
    await response.arrayBuffer();
    // Records become visible only through the file; the earlier three must still be all there is after
    // a further accepted request.
    const marker = encodeRequest([toLogRecord({ ...records[1]!, uid: 'after-bad' }, new ResourceCache().for({}))], 'http/protobuf');
    const ok = await fetch(collector.logsUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: marker });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    const written = await collector.waitForRecords(4);
    expect(written.map((r) => r.attributes['log.record.uid'])).toEqual([records[0]!.uid, records[1]!.uid, 'json-1', 'after-bad']);
  });

  it('stop() ends the process and is idempotent', async () => {
    const other = await startCollector(await mkdtemp(join(tmpdir(), 'auditrelay-collector-stop-')));
    await other.stop();
    await other.stop();
    expect(other.exited).toBeDefined();
    await expect(fetch(other.logsUrl, { method: 'POST', body: '' })).rejects.toThrow();
    await rm(join(other.outputFile, '..'), { recursive: true, force: true });
  });
});
