import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/core/record.ts';
import { DEFAULT_SIEM } from '../../src/config-kit/siem.ts';
import { encodeRequest, ResourceCache, toLogRecord } from '../../src/export/encode.ts';
import { ActivityStore } from '../../src/sources/google/emulator/activities.ts';
import { googleResource, mapGoogleActivity } from '../../src/sources/google/mapping/index.ts';
import { CONTENT_TYPES } from '../../src/sources/o365/config.ts';
import { ContentCatalogue } from '../../src/sources/o365/emulator/catalogue.ts';
import { mapO365Record, o365Resource } from '../../src/sources/o365/mapping/index.ts';
import { decodeProtobufLogs, protobufLogUids } from './otlp-decode.ts';
import { type OtlpSink, startOtlpSink } from './otlp-sink.ts';

/** The sink's fast path (keepRecords: false) must see exactly the uids the full decoder sees. */

const TENANT = '00000000-0000-4000-8000-000000007100';

function o365Records(): AuditRecord[] {
  const catalogue = new ContentCatalogue({
    seed: 7100,
    tenantId: TENANT,
    blobIntervalMs: 0,
    lateRate: 0,
    maxLatenessMs: 0,
    maxRecordsPerBlob: 100,
    largeBlobRate: 0.08,
    largeBlobRecords: [1000, 1200],
    duplicateRate: 0.05,
    maxEventAgeMs: 3_600_000,
    backlogMs: 86_400_000,
    backlogRecords: 3000,
    backlogSpacingMs: 30_000,
  });
  const now = Date.now();
  catalogue.prefill(now);
  return CONTENT_TYPES.flatMap((contentType) =>
    catalogue
      .list(contentType, 0, Number.MAX_SAFE_INTEGER, now)
      .flatMap((blob) => catalogue.records(blob).map((raw) => mapO365Record(raw, { tenantId: TENANT, contentType, observedUnixMs: now, siem: DEFAULT_SIEM }))),
  );
}

function googleRecords(): AuditRecord[] {
  const store = new ActivityStore({ customerId: 'C0test', domain: 'example.test', seed: 7100, lagScale: 1 / 720 });
  const out: AuditRecord[] = [];
  for (const app of ['admin', 'login', 'drive']) {
    for (let i = 0; i < 300; i++) {
      const a = store.generate(app, Date.now() - i * 1000);
      out.push(...mapGoogleActivity(a.body, { customerId: 'C0test', application: app, observedUnixMs: Date.now(), siem: DEFAULT_SIEM }));
    }
  }
  return out;
}

const fullUids = (bytes: Uint8Array) => decodeProtobufLogs(bytes).map((r) => String(r.attributes['log.record.uid']));
const resources = new ResourceCache();
const encode = (records: AuditRecord[], resource: Record<string, string>) => encodeRequest(records.map((r) => toLogRecord(r, resources.for(resource))), 'http/protobuf');

describe('protobufLogUids', () => {
  const o365 = o365Records();
  const google = googleRecords();

  it('returns the uids the full decoder returns, in order (Office 365 and Google records, batches of 1,000)', () => {
    for (const [records, resource] of [
      [o365, o365Resource(TENANT)],
      [google, googleResource('C0test')],
    ] as const) {
      expect(records.length).toBeGreaterThan(500);
      for (let i = 0; i < records.length; i += 1000) {
        const bytes = encode(records.slice(i, i + 1000), resource);
        const uids = protobufLogUids(bytes);
        expect(uids).toEqual(fullUids(bytes));
        expect(uids).toEqual(records.slice(i, i + 1000).map((r) => r.uid));
      }
    }
  });

  it('reads several resources in one request, non-ASCII uids and an empty request', () => {
    const records = [...o365.slice(0, 5), { ...o365[5]!, uid: 'ünïcødé-✓-𝄞' }];
    const a = resources.for(o365Resource(TENANT));
    const b = resources.for(googleResource('C0test'));
    const bytes = encodeRequest([...records.map((r) => toLogRecord(r, a)), ...google.slice(0, 4).map((r) => toLogRecord(r, b))], 'http/protobuf');
    expect(fullUids(bytes)).toHaveLength(10);
    expect(protobufLogUids(bytes)).toEqual(fullUids(bytes));
    expect(protobufLogUids(new Uint8Array(0))).toEqual([]);
  });

  it('gives up (undefined) when a uid is missing or not a string, so the caller decodes fully', () => {
    const r = o365[0]!;
    const resource = resources.for(o365Resource(TENANT));
    const missing = toLogRecord(r, resource);
    delete (missing.attributes as Record<string, unknown>)['log.record.uid'];
    expect(protobufLogUids(encodeRequest([toLogRecord(r, resource), missing], 'http/protobuf'))).toBeUndefined();
    const numeric = toLogRecord(r, resource);
    (numeric.attributes as Record<string, unknown>)['log.record.uid'] = 42;
    const bytes = encodeRequest([numeric], 'http/protobuf');
    expect(protobufLogUids(bytes)).toBeUndefined();
    expect(fullUids(bytes)).toEqual(['42']);
  });

  it('throws on broken framing: truncated, a length past the end, a group or unknown wire type', () => {
    const bytes = encode(o365.slice(0, 20), o365Resource(TENANT));
    for (const cut of [1, 2, 10, Math.floor(bytes.length / 2), bytes.length - 1]) expect(() => protobufLogUids(bytes.subarray(0, cut))).toThrow();
    expect(() => protobufLogUids(Uint8Array.of(0x0a, 0x05, 0x12, 0x01))).toThrow(/runs past/);
    expect(() => protobufLogUids(Uint8Array.of(0x0b))).toThrow(/wire type 3/);
    expect(() => protobufLogUids(Uint8Array.of(0x0f))).toThrow(/wire type 7/);
    expect(() => protobufLogUids(Uint8Array.of(0x10, 0xff, 0xff))).toThrow(/varint/);
    expect(() => protobufLogUids(new TextEncoder().encode('<html>gateway error</html>'))).toThrow();
  });
});

describe('the sink with keepRecords: false', () => {
  let fast: OtlpSink;
  let full: OtlpSink;
  beforeAll(async () => {
    fast = await startOtlpSink({ keepRecords: false });
    full = await startOtlpSink();
  });
  afterAll(async () => {
    await fast.close();
    await full.close();
  });

  const post = (sink: OtlpSink, body: Uint8Array, gzip = true) =>
    fetch(`${sink.endpoint}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
      body: gzip ? gzipSync(body) : body,
    });

  it('collects the same uids as the full decoder, and a malformed body still gets a 400', async () => {
    const bytes = encode(o365Records().slice(0, 1000), o365Resource(TENANT));
    for (const sink of [fast, full]) {
      expect((await post(sink, bytes)).status).toBe(200);
      expect((await post(sink, bytes, false)).status).toBe(200);
    }
    expect(fast.uids()).toEqual(full.uids());
    expect(fast.uids()).toHaveLength(2000);
    expect(fast.records).toHaveLength(0);

    const broken = bytes.subarray(0, bytes.length - 7);
    const answer = await post(fast, broken);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toMatch(/^undecodable: /);
    for (const sink of [fast, full]) expect((await post(sink, Uint8Array.of(0x0a, 0x02, 0x1b, 0x00))).status).toBe(400);
    // Not gzip at all although it says so: 400, not a crash of the process.
    const notGzip = await fetch(`${fast.endpoint}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, body: bytes });
    expect(notGzip.status).toBe(400);
    expect(fast.uids()).toHaveLength(2000);
    expect(fast.requests.get(400)).toBe(3);
  });
});
