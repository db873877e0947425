import { describe, expect, it } from 'vitest';
import { CONTENT_TYPES } from '../../../../src/sources/o365/config.ts';
import { CONTENT_ID_SHAPE, ContentCatalogue, type CatalogueSettings, RETENTION_MS } from '../../../../src/sources/o365/emulator/catalogue.ts';
import { recordId } from '../../../../src/sources/o365/emulator/records.ts';
import { parseApiTime, resolveWindow } from '../../../../src/sources/o365/emulator/time-window.ts';
import { ApiError } from '../../../../src/sources/o365/emulator/errors.ts';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const H = 3_600_000;
const TENANT = '8d3645f2-5430-470b-9913-367bb86c93bb';

function settings(overrides: Partial<CatalogueSettings> = {}): CatalogueSettings {
  return {
    seed: 1,
    tenantId: TENANT,
    blobIntervalMs: 2000,
    lateRate: 0.15,
    maxLatenessMs: 180_000,
    maxRecordsPerBlob: 30,
    largeBlobRate: 0.02,
    largeBlobRecords: [1000, 5000],
    duplicateRate: 0.05,
    maxEventAgeMs: H,
    backlogMs: 2 * H,
    backlogSpacingMs: 30_000,
    ...overrides,
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ApiError ? err.code : `not an ApiError: ${String(err)}`;
  }
}

describe('content catalogue', () => {
  it('serves the same blobs and records for the same seed, and different ones for another seed', () => {
    const a = new ContentCatalogue(settings());
    const b = new ContentCatalogue(settings());
    const c = new ContentCatalogue(settings({ seed: 2 }));
    for (const cat of [a, b, c]) cat.prefill(NOW);
    const idsOf = (cat: ContentCatalogue) => [...cat.visibleRecordIds(NOW + H)];
    expect(idsOf(a)).toEqual(idsOf(b));
    expect(idsOf(a)).not.toEqual(idsOf(c));
    const blob = a.list('Audit.Exchange', NOW - 3 * H, NOW, NOW)[0]!;
    expect(a.records(blob)).toEqual(b.records(b.find(blob.contentId)!));
  });

  it('writes records in the common schema: GUID Id, CreationTime in UTC without Z, before the blob was created', () => {
    const cat = new ContentCatalogue(settings());
    cat.prefill(NOW);
    for (const ct of CONTENT_TYPES) {
      const blobs = cat.list(ct, NOW - 3 * H, NOW, NOW);
      expect(blobs.length).toBeGreaterThan(0);
      for (const record of cat.records(blobs[0]!)) {
        expect(record['Id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(record['CreationTime']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
        expect(Date.parse(`${record['CreationTime']}Z`)).toBeLessThanOrEqual(blobs[0]!.createdMs);
        expect(record['OrganizationId']).toBe(TENANT);
        expect(typeof record['RecordType']).toBe('number');
        for (const key of ['Operation', 'UserType', 'UserKey', 'Workload', 'UserId', 'ObjectId']) expect(record).toHaveProperty(key);
      }
    }
  });

  it('has the awkward cases: ClientIP with port, [v6]:port, empty; large blobs; the same Id in two blobs', () => {
    const cat = new ContentCatalogue(settings({ backlogMs: 2 * H, largeBlobRate: 0.05 }));
    cat.prefill(NOW);
    const ips = new Set<unknown>();
    const seen = new Map<string, string>();
    let repeated = 0;
    let largest = 0;
    for (const ct of CONTENT_TYPES) {
      for (let start = NOW - 2 * H; start < NOW; start += 24 * H) {
        for (const blob of cat.list(ct, start, start + 24 * H, NOW + H)) {
          const records = cat.records(blob);
          largest = Math.max(largest, records.length);
          for (const r of records) {
            ips.add(r['ClientIP']);
            const other = seen.get(r['Id'] as string);
            if (other !== undefined && other !== blob.contentId) repeated++;
            seen.set(r['Id'] as string, blob.contentId);
          }
        }
      }
    }
    expect([...ips].some((ip) => typeof ip === 'string' && /^\d+\.\d+\.\d+\.\d+:\d+$/.test(ip))).toBe(true);
    expect([...ips].some((ip) => typeof ip === 'string' && /^\[[0-9a-f:]+\]:\d+$/.test(ip))).toBe(true);
    expect(ips.has('')).toBe(true);
    expect(largest).toBeGreaterThanOrEqual(1000);
    expect(repeated).toBeGreaterThan(0);
  });

  it('keeps late blobs out of listings until they become visible, with their contentCreated in the past', () => {
    const cat = new ContentCatalogue(settings({ backlogMs: 0, lateRate: 1, maxLatenessMs: 60_000 }));
    const blob = cat.produce(NOW, 'Audit.General');
    expect(blob.visibleMs).toBeGreaterThan(NOW);
    expect(cat.list('Audit.General', NOW - H, NOW + H, NOW)).toHaveLength(0);
    expect([...cat.visibleRecordIds(NOW)]).toHaveLength(0);
    const later = cat.list('Audit.General', NOW - H, NOW + H, blob.visibleMs);
    expect(later.map((b) => b.contentId)).toEqual([blob.contentId]);
    expect(later[0]!.createdMs).toBe(NOW);
  });

  it('sizes a backlog to the requested record count without holding records, inside the 7-day retention', () => {
    const cat = new ContentCatalogue(settings({ backlogMs: 7 * 24 * H, backlogRecords: 200_000 }));
    cat.prefill(NOW);
    const ids = [...cat.visibleRecordIds(NOW + H)];
    expect(ids.length).toBeGreaterThan(150_000);
    expect(ids.length).toBeLessThan(260_000);
    const oldest = cat.list('Audit.AzureActiveDirectory', NOW - RETENTION_MS, NOW - RETENTION_MS + 24 * H, NOW)[0]!;
    expect(oldest.createdMs).toBeGreaterThanOrEqual(NOW - RETENTION_MS + H);
    expect(oldest.expiresMs).toBe(oldest.createdMs + RETENTION_MS);
  });

  it('makes content ids shaped like the service and record ids stable by key', () => {
    const cat = new ContentCatalogue(settings({ backlogMs: 0 }));
    const blob = cat.produce(NOW, 'Audit.SharePoint');
    expect(blob.contentId).toMatch(CONTENT_ID_SHAPE);
    expect(blob.contentId).toContain('$audit_sharepoint$Audit_SharePoint$');
    expect(recordId({ seed: 1, blobSeq: 0, index: 0 })).toBe(recordId({ seed: 1, blobSeq: 0, index: 0 }));
    expect(recordId({ seed: 1, blobSeq: 0, index: 0 })).not.toBe(recordId({ seed: 1, blobSeq: 0, index: 1 }));
  });
});

describe('listing time rules', () => {
  it('accepts the three documented formats as UTC', () => {
    expect(parseApiTime('2026-11-21')).toBe(Date.parse('2026-11-21T00:00:00Z'));
    expect(parseApiTime('2026-11-21T10:15')).toBe(Date.parse('2026-11-21T10:15:00Z'));
    expect(parseApiTime('2026-11-21T10:15:30')).toBe(Date.parse('2026-11-21T10:15:30Z'));
    expect(parseApiTime('2026-11-21T10:15:30+02:00')).toBeUndefined();
    expect(parseApiTime('2026-02-30')).toBeUndefined();
    expect(parseApiTime('21/11/2026')).toBeUndefined();
  });

  it('defaults to the last 24 hours when both times are omitted', () => {
    expect(resolveWindow(undefined, undefined, NOW)).toEqual({ startMs: NOW - 24 * H, endMs: NOW });
  });

  it('answers AF20030 when only one time is given and AF20002 for an unparseable one', () => {
    expect(codeOf(() => resolveWindow('2026-11-22T10:00', undefined, NOW))).toBe('AF20030');
    expect(codeOf(() => resolveWindow(undefined, '2026-11-22T10:00', NOW))).toBe('AF20030');
    expect(codeOf(() => resolveWindow('yesterday', '2026-11-22T10:00', NOW))).toBe('AF20002');
  });

  it('answers AF20055 for windows over 24 h, backwards, starting over 7 days back, or in the future', () => {
    expect(codeOf(() => resolveWindow('2026-11-21T10:00', '2026-11-22T10:01', NOW))).toBe('AF20055');
    expect(codeOf(() => resolveWindow('2026-11-22T10:00', '2026-11-22T09:00', NOW))).toBe('AF20055');
    expect(codeOf(() => resolveWindow('2026-11-15T11:59', '2026-11-15T12:30', NOW))).toBe('AF20055');
    expect(codeOf(() => resolveWindow('2026-11-22T14:00', '2026-11-22T15:00', NOW))).toBe('AF20055');
    expect(resolveWindow('2026-11-21T12:00', '2026-11-22T12:00', NOW)).toEqual({ startMs: NOW - 24 * H, endMs: NOW });
    expect(codeOf(() => resolveWindow('2026-11-15T12:00:01', '2026-11-16T12:00', NOW))).toBeUndefined();
  });
});
