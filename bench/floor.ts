/**
 * The floor: the least work any connector must do for the same records, with no framework at all —
 * JSON.parse of the same blob bodies (Office 365) or listing pages (Google), the same mapping to
 * records, the same OTLP protobuf encoding and the same gzip, in one tight single-threaded loop
 * with full 1,000-record batches. No HTTP, no scheduler, no state, no dedup, no emulator.
 *
 * The bodies are produced by the emulators' own generators with the benchmark's settings and
 * rendered to JSON before the clock starts (that is the API's work, not ours).
 */
import { gzipSync } from 'node:zlib';
import type { AuditRecord } from '../src/core/record.ts';
import { DEFAULT_SIEM } from '../src/config-kit/siem.ts';
import { encodeRecords, ResourceCache } from '../src/export/encode.ts';
import { mapGoogleActivity, googleResource } from '../src/sources/google/mapping/index.ts';
import { ActivityStore } from '../src/sources/google/emulator/activities.ts';
import { CONTENT_TYPES } from '../src/sources/o365/config.ts';
import { ContentCatalogue, type CatalogueSettings } from '../src/sources/o365/emulator/catalogue.ts';
import { mapO365Record, o365Resource } from '../src/sources/o365/mapping/index.ts';

export interface FloorResult {
  records: number;
  seconds: number;
  records_per_s: number;
}

const BATCH = 1000;

/** Encodes and compresses `records` in full batches; returns nothing (the bytes are dropped). */
function exportAll(records: AuditRecord[], resource: ReturnType<ResourceCache['for']>, sink: { bytes: number }): void {
  for (let i = 0; i < records.length; i += BATCH) {
    sink.bytes += gzipSync(encodeRecords(records.slice(i, i + BATCH), resource, 'http/protobuf')).byteLength;
  }
}

/** Office 365: blobs drawn from the same catalogue the emulator serves, up to `sampleRecords`. */
export function o365Floor(settings: Pick<CatalogueSettings, 'seed' | 'tenantId' | 'maxRecordsPerBlob' | 'largeBlobRate' | 'largeBlobRecords'> & { backlogRecords: number }, sampleRecords: number): FloorResult {
  const catalogue = new ContentCatalogue({
    ...settings,
    blobIntervalMs: 0,
    lateRate: 0,
    maxLatenessMs: 0,
    duplicateRate: 0.05,
    maxEventAgeMs: 60 * 60_000,
    backlogMs: 7 * 86_400_000,
    backlogSpacingMs: 30_000,
  });
  const now = Date.now();
  catalogue.prefill(now);
  // Every k-th blob in creation order, so the sample has the backlog's mix of small and large blobs.
  const all = CONTENT_TYPES.flatMap((ct) => catalogue.list(ct, 0, Number.MAX_SAFE_INTEGER, now).map((b) => ({ b, ct })));
  const totalRecords = all.reduce((n, { b }) => n + b.ownRecords, 0);
  const step = Math.max(1, Math.floor(totalRecords / sampleRecords));
  const bodies: { ct: string; body: string }[] = [];
  for (let i = 0; i < all.length; i += step) {
    const { b, ct } = all[i]!;
    bodies.push({ ct, body: JSON.stringify(catalogue.records(b)) });
  }
  const resource = new ResourceCache().for(o365Resource(settings.tenantId));
  const sink = { bytes: 0 };
  const started = performance.now();
  let records = 0;
  const pending: AuditRecord[] = [];
  for (const { ct, body } of bodies) {
    const raws = JSON.parse(body) as unknown[];
    const observedUnixMs = Date.now();
    for (const raw of raws) pending.push(mapO365Record(raw, { tenantId: settings.tenantId, contentType: ct, observedUnixMs, siem: DEFAULT_SIEM }));
    if (pending.length >= BATCH) {
      const full = pending.length - (pending.length % BATCH);
      exportAll(pending.splice(0, full), resource, sink);
    }
    records += raws.length;
  }
  exportAll(pending, resource, sink);
  const seconds = (performance.now() - started) / 1000;
  return { records, seconds, records_per_s: records / seconds };
}

/** Google: pages of 1,000 activities from the same generator the emulator uses, up to `sampleRecords` events. */
export function googleFloor(settings: { seed: number; customerId: string; applications: string[] }, sampleRecords: number): FloorResult {
  const store = new ActivityStore({ customerId: settings.customerId, domain: 'example.test', seed: settings.seed, lagScale: 1 / 720 });
  const pages: { app: string; body: string }[] = [];
  let events = 0;
  let t = Date.now() - 7 * 86_400_000;
  while (events < sampleRecords) {
    for (const app of settings.applications) {
      const items = [];
      for (let i = 0; i < 1000; i++) {
        const a = store.generate(app, t + i * 1000);
        items.push(a.body);
        events += a.uids.length;
      }
      pages.push({ app, body: JSON.stringify({ kind: 'admin#reports#activities', items }) });
    }
    t += 1_000_000;
  }
  const resource = new ResourceCache().for(googleResource(settings.customerId));
  const sink = { bytes: 0 };
  const started = performance.now();
  let records = 0;
  for (const { app, body } of pages) {
    const page = JSON.parse(body) as { items: unknown[] };
    const observedUnixMs = Date.now();
    const out: AuditRecord[] = [];
    for (const item of page.items) out.push(...mapGoogleActivity(item, { customerId: settings.customerId, application: app, observedUnixMs, siem: DEFAULT_SIEM }));
    exportAll(out, resource, sink);
    records += out.length;
  }
  const seconds = (performance.now() - started) / 1000;
  return { records, seconds, records_per_s: records / seconds };
}
