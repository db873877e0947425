/**
 * Realistic AuditRecords in bulk: raw records from the emulators' own generators, through JSON (as
 * they come from the APIs) and the real mappings. For encoder tests and benchmarks.
 */
import type { AuditRecord } from '../../src/core/record.ts';
import { DEFAULT_SIEM } from '../../src/config-kit/siem.ts';
import { ActivityStore } from '../../src/sources/google/emulator/activities.ts';
import { googleResource, mapGoogleActivity } from '../../src/sources/google/mapping/index.ts';
import { CONTENT_TYPES } from '../../src/sources/o365/config.ts';
import { ContentCatalogue } from '../../src/sources/o365/emulator/catalogue.ts';
import { mapO365Record, o365Resource } from '../../src/sources/o365/mapping/index.ts';

export interface SampleRecords {
  records: AuditRecord[];
  /** The source's resource attributes (for ResourceCache.for). */
  resourceAttrs: Record<string, string>;
}

/**
 * About `backlogRecords` Office 365 records (the catalogue decides the exact count), every content type,
 * small and large blobs as the benchmark's emulator serves them.
 */
export function o365SampleRecords(backlogRecords: number, observedUnixMs = Date.UTC(2024, 4, 15)): SampleRecords {
  const tenantId = '00000000-0000-4000-8000-000000007100';
  const catalogue = new ContentCatalogue({
    seed: 7100,
    tenantId,
    blobIntervalMs: 0,
    lateRate: 0,
    maxLatenessMs: 0,
    maxRecordsPerBlob: 100,
    largeBlobRate: 0.08,
    largeBlobRecords: [1000, 5000],
    duplicateRate: 0.05,
    maxEventAgeMs: 60 * 60_000,
    backlogMs: 7 * 86_400_000,
    backlogRecords,
    backlogSpacingMs: 30_000,
  });
  catalogue.prefill(observedUnixMs);
  const records: AuditRecord[] = [];
  for (const ct of CONTENT_TYPES) {
    for (const blob of catalogue.list(ct, 0, Number.MAX_SAFE_INTEGER, observedUnixMs)) {
      for (const raw of JSON.parse(JSON.stringify(catalogue.records(blob))) as unknown[]) {
        records.push(mapO365Record(raw, { tenantId, contentType: ct, observedUnixMs, siem: DEFAULT_SIEM }));
      }
    }
  }
  return { records, resourceAttrs: o365Resource(tenantId) };
}

/** `count` Google Workspace events, a second apart, the applications in turn. */
export function googleSampleRecords(count: number, observedUnixMs = Date.UTC(2024, 4, 15)): SampleRecords {
  const customerId = 'C0sample';
  const store = new ActivityStore({ customerId, domain: 'example.test', seed: 7100, lagScale: 1 / 720 });
  const applications = ['admin', 'login', 'drive', 'token', 'saml'];
  const records: AuditRecord[] = [];
  let t = observedUnixMs - 86_400_000;
  while (records.length < count) {
    for (const application of applications) {
      const raw = JSON.parse(JSON.stringify(store.generate(application, t).body)) as unknown;
      records.push(...mapGoogleActivity(raw, { customerId, application, observedUnixMs, siem: DEFAULT_SIEM }));
    }
    t += 1000;
  }
  return { records: records.slice(0, count), resourceAttrs: googleResource(customerId) };
}
