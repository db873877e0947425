import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttributeBag, ATTRIBUTE_LIMIT, OMITTED_ATTRIBUTES_KEY, parseJsonExact, toAttributeValue } from '../../src/sources/shared/mapping/attributes.ts';
import { addSiemAttributes } from '../../src/sources/shared/mapping/siem.ts';
import { siemSchema } from '../../src/config-kit/siem.ts';
import { preview, readInput } from '../../src/cli/commands/preview.ts';
import { google } from '../../src/sources/google/index.ts';
import { mapGoogleActivity } from '../../src/sources/google/mapping/index.ts';
import { parseClientAddress } from '../../src/sources/shared/mapping/client-ip.ts';
import { mapO365Record } from '../../src/sources/o365/mapping/index.ts';
import { parseUtcDateTime } from '../../src/sources/shared/mapping/time.ts';
import { DEFAULT_SIEM } from '../../src/config-kit/siem.ts';

const ctx = { tenantId: 't', contentType: 'Audit.General', observedUnixMs: 0, siem: DEFAULT_SIEM };
const gctx = { customerId: 'C1', application: 'login', observedUnixMs: 0, siem: DEFAULT_SIEM };

describe('parseClientAddress', () => {
  it.each([
    ['10.11.12.13', '10.11.12.13', undefined],
    ['10.11.12.13:12345', '10.11.12.13', 12345],
    ['[10.11.12.13]:12345', '10.11.12.13', 12345],
    ['[10.11.12.13]', '10.11.12.13', undefined],
    ['::ffff:10.11.12.13', '10.11.12.13', undefined],
    ['[::ffff:10.11.12.13]:12345', '10.11.12.13', 12345],
    ['2001:db8::abcd', '2001:db8::abcd', undefined],
    ['[2001:db8::abcd]', '2001:db8::abcd', undefined],
    ['[2001:db8::abcd]:12345', '2001:db8::abcd', 12345],
    [' 192.0.2.1 ', '192.0.2.1', undefined],
  ])('%s', (raw, address, port) => {
    expect(parseClientAddress(raw)).toEqual(port === undefined ? { address } : { address, port });
  });
  it.each([[''], [null], [undefined], ['localhost'], ['localhost:12345'], ['[cool.client.local]:12345'], ['NOTANIPV4 (10.9000.0.1)'], ['10.900.0.1'], [42]])('rejects %j', (raw) => {
    expect(parseClientAddress(raw)).toBeUndefined();
  });
});

describe('parseUtcDateTime', () => {
  it('reads a zone-less time as UTC, with up to seven fractional digits', () => {
    expect(parseUtcDateTime('2024-05-14T07:42:19', 'f')).toBe(Date.UTC(2024, 4, 14, 7, 42, 19));
    expect(parseUtcDateTime('2024-05-14T07:42:19.4312870', 'f')).toBe(Date.UTC(2024, 4, 14, 7, 42, 19, 431));
    expect(parseUtcDateTime('2024-05-14T07:42:19Z', 'f')).toBe(Date.UTC(2024, 4, 14, 7, 42, 19));
    expect(parseUtcDateTime('2024-05-14T09:42:19+02:00', 'f')).toBe(Date.UTC(2024, 4, 14, 7, 42, 19));
  });
  it('names the field of an impossible or unreadable time', () => {
    expect(() => parseUtcDateTime('2024-02-30T00:00:00', 'CreationTime')).toThrow(/CreationTime "2024-02-30T00:00:00" is not a valid/);
    expect(() => parseUtcDateTime('yesterday', 'CreationTime')).toThrow(/CreationTime "yesterday"/);
    expect(() => parseUtcDateTime(undefined, 'CreationTime')).toThrow(/CreationTime is missing/);
  });
});

describe('mapO365Record', () => {
  it('throws a clear error for records it cannot map', () => {
    expect(() => mapO365Record([], ctx)).toThrow(/not a JSON object \(got an array\)/);
    expect(() => mapO365Record({ CreationTime: '2024-05-14T07:42:19' }, ctx)).toThrow(/no Id/);
    expect(() => mapO365Record({ Id: 'a', CreationTime: 17 }, ctx)).toThrow(/record a: CreationTime is not a string/);
  });
  it('maps a minimal record with an unknown RecordType and keeps its number', () => {
    const r = mapO365Record({ Id: 'a', CreationTime: '2024-05-14T07:42:19', RecordType: 9999, UserType: 42 }, ctx);
    expect(r.eventName).toBe('o365.RecordType9999');
    expect(r.attributes['o365.audit.RecordType']).toBe(9999);
    expect(r.attributes['o365.user_type.name']).toBe('UserType42');
    expect(r.attributes['event.outcome']).toBe('unknown');
  });
  it('keeps within the attribute limit and counts what it left out', () => {
    const raw: Record<string, unknown> = { Id: 'a', CreationTime: '2024-05-14T07:42:19' };
    for (let i = 0; i < 300; i++) raw[`Field${i}`] = i;
    const r = mapO365Record(raw, ctx);
    expect(Object.keys(r.attributes).length).toBeLessThan(ATTRIBUTE_LIMIT);
    expect(r.attributes[OMITTED_ATTRIBUTES_KEY]).toBeGreaterThan(150);
  });
});

describe('mapGoogleActivity', () => {
  const activity = {
    id: { time: '2024-05-14T07:41:02.311Z', uniqueQualifier: '-1', applicationName: 'login', customerId: 'C1' },
    actor: { email: 'a@example.com' },
    events: [{ name: 'login_success', parameters: [{ name: 'n', intValue: '9223372036854775807' }] }, { name: 'login_success' }],
  };
  it('gives stable uids, distinct per event', () => {
    const a = mapGoogleActivity(activity, gctx).map((r) => r.uid);
    const b = mapGoogleActivity(structuredClone(activity), gctx).map((r) => r.uid);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(2);
  });
  it('keeps int64 values beyond 2^53 exact, as strings', () => {
    expect(mapGoogleActivity(activity, gctx)[0]?.attributes['google_workspace.login.n']).toBe('9223372036854775807');
  });
  it('throws a clear error when there is nothing to map', () => {
    expect(() => mapGoogleActivity({ ...activity, events: [] }, gctx)).toThrow(/no events/);
    expect(() => mapGoogleActivity({ ...activity, id: {} }, gctx)).toThrow(/id.time is missing/);
    expect(() => mapGoogleActivity('x', gctx)).toThrow(/not a JSON object/);
  });
});

describe('attribute safety', () => {
  it('converts values OTLP would drop silently', () => {
    expect(toAttributeValue(new Date(Date.UTC(2024, 0, 1)))).toBe('2024-01-01T00:00:00.000Z');
    expect(toAttributeValue(12n)).toBe(12);
    expect(toAttributeValue(2n ** 64n)).toBe('18446744073709551616');
    expect(toAttributeValue(Number.NaN)).toBe('NaN');
    expect(toAttributeValue(null)).toBeUndefined();
    expect(toAttributeValue({ a: 1 })).toBeUndefined();
    expect(toAttributeValue([1, 'a', null, { b: 2 }])).toEqual(['1', 'a', '{"b":2}']);
    expect(toAttributeValue([1, 2n])).toEqual([1, 2]);
    expect(toAttributeValue(new URL('https://example.com/x'))).toBe('"https://example.com/x"');
  });
  it('flattens objects into dotted keys', () => {
    const bag = new AttributeBag();
    bag.flatten('a', { b: { c: 1 }, d: null, e: '' });
    expect(bag.done()).toEqual({ 'a.b.c': 1 });
  });
  it('parses JSON keeping big integers exact', () => {
    expect(parseJsonExact('{"a":9007199254740993,"b":1.5,"c":12}')).toEqual({ a: '9007199254740993', b: 1.5, c: 12 });
  });
});

describe('SIEM hand-off', () => {
  const defaults = { splunkSource: 's', splunkSourcetype: 'st', elasticDataset: 'd' };
  it('adds defaults, honours overrides and switches', () => {
    const a = {};
    addSiemAttributes(a, 'u', siemSchema.parse({}), defaults);
    expect(a).toEqual({ 'com.splunk.source': 's', 'com.splunk.sourcetype': 'st', 'data_stream.dataset': 'd', 'elasticsearch.document_id': 'u' });
    const b = {};
    addSiemAttributes(b, 'u', siemSchema.parse({ splunk: { index: 'audit', sourcetype: 'x' }, elastic: false }), defaults);
    expect(b).toEqual({ 'com.splunk.source': 's', 'com.splunk.sourcetype': 'x', 'com.splunk.index': 'audit' });
    const c = {};
    addSiemAttributes(c, 'u', siemSchema.parse({ splunk: false, elastic: { namespace: 'prod', documentId: false } }), defaults);
    expect(c).toEqual({ 'data_stream.dataset': 'd', 'data_stream.namespace': 'prod' });
  });
  it('rejects data stream names Elastic would refuse', () => {
    expect(siemSchema.safeParse({ elastic: { dataset: 'O365-Audit' } }).success).toBe(false);
  });
});

describe('preview', () => {
  const rec = (id: string) => JSON.stringify({ Id: id, CreationTime: '2024-05-14T07:42:19', RecordType: 15, ClientIP: '192.0.2.1:80' });
  it('reads newline-delimited records and names bad lines', () => {
    const { items, problems } = readInput(`${rec('a')}\n\n{oops\n${rec('b')}\n`);
    expect(items.map((i) => i.where)).toEqual(['line 1', 'line 4']);
    expect(problems).toEqual([{ where: 'line 3', message: expect.stringMatching(/^not JSON/) }]);
  });
  it('reads a content blob array and an activities.list page', () => {
    expect(readInput(`[${rec('a')},\n${rec('b')}]`).items).toHaveLength(2);
    expect(readInput(JSON.stringify({ kind: 'admin#reports#activities', items: [{}, {}, {}] }), google.preview.unpage).items).toHaveLength(3);
    expect(readInput(JSON.stringify({ kind: 'admin#reports#activities' }), google.preview.unpage).items).toHaveLength(0);
  });
  it('writes an ExportLogsServiceRequest and reports records that do not map', async () => {
    const { json, problems } = await preview(`${rec('a')}\n{"Id":"b"}\n`, { source: 'o365', observedUnixMs: 0 });
    const logs = JSON.parse(json).resourceLogs[0].scopeLogs[0].logRecords;
    expect(logs).toHaveLength(1);
    expect(logs[0].timeUnixNano).toBe(String(BigInt(Date.UTC(2024, 4, 14, 7, 42, 19)) * 1_000_000n));
    expect(problems).toEqual([{ where: 'line 2', message: 'record b: CreationTime is missing' }]);
  });
  it('exits 1 with line numbers on stderr when input was bad, as a CLI', () => {
    const main = join(import.meta.dirname, '../../src/cli/main.ts');
    const run = spawnSync(process.execPath, [main, 'preview', '--source', 'o365', '-'], { input: `${rec('a')}\nnope\n`, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/line 2: not JSON/);
    expect(JSON.parse(run.stdout).resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(1);
    const ok = spawnSync(process.execPath, [main, 'preview', '--source', 'google', join(import.meta.dirname, '../fixtures/google/login.json')], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(4);
  });
});
