/**
 * The one-pass protobuf encoder must write exactly the bytes OpenTelemetry's ProtobufLogsSerializer
 * writes for the same records (encodeRequest over toLogRecord), and never touch an array it returned.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import type { AttributeValue, AuditRecord, BodyValue } from '../../src/core/record.ts';
import { encodeRecords, encodeRequest, ResourceCache, toLogRecord } from '../../src/export/encode.ts';
import { encodeLogsProtobuf } from '../../src/export/protobuf-logs.ts';
import { o365Resource } from '../../src/sources/o365/mapping/index.ts';
import { decodeProtobufLogs } from '../support/otlp-decode.ts';
import { googleSampleRecords, o365SampleRecords } from '../support/sample-records.ts';
import { fixtureNames, mapFixture } from '../sources/mapping-fixtures.ts';

const T0 = Date.UTC(2024, 4, 15, 12, 30, 45, 123);

function record(over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    uid: 'uid-1',
    timeUnixMs: T0,
    observedUnixMs: T0 + 5_000,
    eventName: 'test.event',
    severityNumber: 9,
    severityText: 'INFO',
    attributes: { 'user.id': 'alice@example.com', 'event.outcome': 'success' },
    body: { Id: 'abc', Operation: 'Test' },
    ...over,
  };
}

const resources = new ResourceCache(resourceFromAttributes({ 'service.name': 'auditrelay', 'service.version': '9.9.9', 'deployment.environment.name': 'test' }));
const resource = resources.for({ 'cloud.provider': 'microsoft', 'o365.tenant.id': 'tenant-1', 'host.count': '3' });

/** Ours and OpenTelemetry's bytes for the same records, through the functions the sink uses. */
function both(records: AuditRecord[], res = resource): { ours: Uint8Array; otel: Uint8Array } {
  const ours = encodeRecords(records, res, 'http/protobuf');
  const otel = encodeRequest(
    records.map((r) => toLogRecord(r, res)),
    'http/protobuf',
  );
  return { ours, otel };
}

function expectSameBytes(records: AuditRecord[], res = resource): Uint8Array {
  const { ours, otel } = both(records, res);
  // Structure first, for a readable diff when something is off; then every byte.
  expect(decodeProtobufLogs(ours)).toEqual(decodeProtobufLogs(otel));
  expect(Buffer.from(ours).equals(Buffer.from(otel))).toBe(true);
  return ours;
}

const astral = '𝄞🎉👩‍👩‍👧‍👦';
const mixedUnicode = `Zoë Ångström — 東京 ${astral} ✓`;

describe('protobuf logs encoder: same bytes as the OpenTelemetry serializer', () => {
  it('a plain record', () => {
    expectSameBytes([record()]);
  });

  it('no records: an empty request', () => {
    const { ours, otel } = both([]);
    expect(ours.byteLength).toBe(0);
    expect(Buffer.from(ours).equals(Buffer.from(otel))).toBe(true);
  });

  it('unicode, emoji and astral characters in keys, values and body; lone surrogates become U+FFFD', () => {
    expectSameBytes([
      record({
        eventName: `évènement.${astral}`,
        severityText: 'AVERTISSEMENT ⚠',
        attributes: { 'user.name': mixedUnicode, [`clé.${astral}`]: 'valeur', 'x.lone': 'a\ud800b\udc00', 'x.pair': '\ud83d\ude00' },
        body: { [mixedUnicode]: mixedUnicode, nested: { 'ключ': 'значение', emoji: astral.repeat(50) }, lone: '\udfff' },
      }),
    ]);
  });

  it('long strings: lengths of one, two and three varint bytes, right at the edges', () => {
    const lengths = [0, 1, 42, 43, 127, 128, 129, 300, 16383, 16384, 16385, 70_000];
    const attributes: Record<string, AttributeValue> = {};
    const body: Record<string, BodyValue> = {};
    for (const n of lengths) {
      attributes[`a.${n}`] = 'x'.repeat(n);
      // Multi-byte content whose UTF-16 length and UTF-8 length sit on different sides of a varint edge.
      body[`é${n}`] = 'é'.repeat(n);
      body[`e${n}`] = '€'.repeat(Math.ceil(n / 3));
    }
    expectSameBytes([record({ attributes, body })]);
    // Whole messages (KeyValue, kvlist, LogRecord) around 128 and 16384 bytes.
    for (const n of [100, 110, 115, 116, 117, 118, 119, 120, 121, 125, 16_340, 16_350, 16_360, 16_370, 16_380]) {
      expectSameBytes([record({ attributes: { k: 'v'.repeat(n) }, body: { b: 'w'.repeat(n) } })]);
      expectSameBytes([record({ attributes: {}, body: 'z'.repeat(n), severityText: undefined, eventName: '' })]);
    }
  });

  it('empty strings everywhere, and no severity at all', () => {
    expectSameBytes([
      record({ uid: '', eventName: '', severityText: '', severityNumber: undefined, attributes: { '': '', e: '' }, body: '' }),
      record({ severityNumber: 0, severityText: undefined }),
    ]);
  });

  it('nested objects and arrays, mixed arrays, null in the body', () => {
    expectSameBytes([
      record({
        body: {
          a: [1, 'two', true, null, { three: [3, [4, [5, []]]] }, [], {}],
          deep: { l1: { l2: { l3: { l4: { l5: 'bottom' } } } } },
          none: null,
          list: Array.from({ length: 200 }, (_, i) => ({ i, s: `item-${i}`, f: i / 7 })),
        },
      }),
      record({ body: null }),
      record({ body: [null, null] }),
      record({ body: [] }),
      record({ body: {} }),
    ]);
  });

  it('numbers: negative, large, fractional, edge cases; strings that look like numbers', () => {
    const numbers = [
      0, -0, 1, -1, 127, 128, 255, 16383, 16384, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 32 + 1, Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER, 2 ** 53 + 2, 2 ** 62, 2 ** 63 - 1024, 2 ** 63, -(2 ** 63), -(2 ** 63) - 4096, 2 ** 64, 1e21, -1e21, 1.5, -1.5, 0.1, 1e-300, 5e-324,
      Number.MAX_VALUE, -Number.MAX_VALUE, Number.EPSILON,
    ];
    const attributes: Record<string, AttributeValue> = { nums: numbers, 'n.nan': Number.NaN, 'n.inf': Number.POSITIVE_INFINITY, 'n.ninf': Number.NEGATIVE_INFINITY };
    numbers.forEach((n, i) => {
      attributes[`n.${i}`] = n;
    });
    expectSameBytes([
      record({
        severityNumber: 24,
        attributes: { ...attributes, 's.nan': 'NaN', 's.inf': 'Infinity', 's.num': '12345', 's.neg': '-0', 'b.t': true, 'b.f': false, bools: [true, false], strs: ['a', '', 'é'] },
        body: { numbers, neg: -42, big: 2 ** 53 + 2, frac: 2.5e-7, t: true, f: false, nan: 'NaN' },
      }),
    ]);
  });

  it('odd timestamps: fractional, before 1970, far future, zero', () => {
    expectSameBytes([
      record({ timeUnixMs: 0, observedUnixMs: 1 }),
      record({ timeUnixMs: 1_715_776_245_123.456, observedUnixMs: 1_715_776_245_999.75 }),
      record({ timeUnixMs: 1_715_776_245_999.9995, observedUnixMs: 0.5 }),
      record({ timeUnixMs: -1_000_000_001, observedUnixMs: -1 }),
      record({ timeUnixMs: 4_102_444_800_000, observedUnixMs: 253_402_300_799_999 }),
    ]);
  });

  it('a log.record.uid already among the attributes keeps its place and takes the uid', () => {
    expectSameBytes([record({ attributes: { a: '1', 'log.record.uid': 'stale', b: '2' } })]);
  });

  it('integer-like attribute and body keys come first, as in any JS object', () => {
    expectSameBytes([record({ attributes: { b: '1', '10': 'ten', '2': 'two', a: 'x' }, body: { z: 1, '5': 5, '1': 1 } })]);
  });

  it('many records', () => {
    const records = Array.from({ length: 2_500 }, (_, i) =>
      record({
        uid: `uid-${i}`,
        timeUnixMs: T0 + i * 37,
        observedUnixMs: T0 + i * 41,
        severityNumber: (i % 24) + 1,
        attributes: { i, 'user.id': `user-${i % 17}@example.com`, odd: i % 2 === 1 },
        body: { Id: `id-${i}`, Payload: 'p'.repeat(i % 300), Items: Array.from({ length: i % 5 }, (_, j) => j) },
      }),
    );
    expectSameBytes(records);
  });

  it('resources with several attributes, a schema URL, or none at all', () => {
    const rich = resourceFromAttributes(
      { 'service.name': 'svc ✓', 'service.instance.id': 'x'.repeat(200), 'host.cpus': 2, 'ratio': 0.5, enabled: true, tags: ['a', 'b'] },
      { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' },
    );
    expectSameBytes([record(), record({ uid: 'uid-2' })], rich);
    expectSameBytes([record()], resourceFromAttributes({}));
    expectSameBytes([record()], new ResourceCache().for(o365Resource('tenant-2')));
  });

  it('scope attributes, dropped count and schema URL, as the serializer writes them', () => {
    const scope = { name: 'scope ✓', version: '', schemaUrl: 'https://example.test/s', attributes: { a: 1, b: 'two' }, droppedAttributesCount: 3 };
    const records = [record(), record({ uid: 'uid-2' })];
    const ours = encodeLogsProtobuf(resource, scope, records);
    const otel = encodeRequest(
      records.map((r) => ({ ...toLogRecord(r, resource), instrumentationScope: scope })),
      'http/protobuf',
    );
    expect(Buffer.from(ours).equals(Buffer.from(otel))).toBe(true);
  });

  it('every mapping fixture (Office 365 and Google), as mapped today', () => {
    for (const source of ['o365', 'google'] as const) {
      for (const name of fixtureNames(source)) {
        const records = mapFixture(source, name);
        expect(records.length, `${source}/${name}`).toBeGreaterThan(0);
        expectSameBytes(records);
      }
    }
  });

  it('records from the Office 365 emulator catalogue through the real mapping', () => {
    const { records, resourceAttrs } = o365SampleRecords(3_000);
    expect(records.length).toBeGreaterThan(1_000);
    const res = new ResourceCache().for(resourceAttrs);
    for (let i = 0; i < records.length; i += 1_000) expectSameBytes(records.slice(i, i + 1_000), res);
  });

  it('records from the Google emulator generator through the real mapping', () => {
    const { records, resourceAttrs } = googleSampleRecords(1_000);
    expectSameBytes(records, new ResourceCache().for(resourceAttrs));
  });
});

describe('protobuf logs encoder: returned arrays belong to the caller', () => {
  it('a later encode, smaller or larger, leaves an earlier result as it was', () => {
    const scope = { name: 'auditrelay', version: '1' };
    const first = encodeLogsProtobuf(resource, scope, [record({ body: { a: 'first' } })]);
    const copy = Buffer.from(first);
    encodeLogsProtobuf(resource, scope, [record({ uid: 'other', body: { b: 'second!' } })]);
    // Large enough to make the scratch buffer grow (and then be dropped for a fresh one).
    encodeLogsProtobuf(resource, scope, Array.from({ length: 300 }, (_, i) => record({ uid: `big-${i}`, body: 'y'.repeat(60_000) })));
    encodeLogsProtobuf(resource, scope, [record({ uid: 'after', body: { c: 'third' } })]);
    expect(Buffer.from(first).equals(copy)).toBe(true);
    // Its own memory: not a view into a shared pool or scratch buffer.
    expect(first.byteOffset).toBe(0);
    expect(first.buffer.byteLength).toBe(first.byteLength);
  });

  it('the shared encoder behind encodeRecords also returns fresh arrays', () => {
    const a = encodeRecords([record()], resource, 'http/protobuf');
    const before = Buffer.from(a);
    const b = encodeRecords([record({ uid: 'x', body: 'z'.repeat(100_000) })], resource, 'http/protobuf');
    expect(a.buffer).not.toBe(b.buffer);
    expect(Buffer.from(a).equals(before)).toBe(true);
  });

  it('http/json still goes through the OpenTelemetry JSON serializer', () => {
    const json = new TextDecoder().decode(encodeRecords([record()], resource, 'http/json'));
    const otel = new TextDecoder().decode(encodeRequest([toLogRecord(record(), resource)], 'http/json'));
    expect(json).toBe(otel);
  });
});
