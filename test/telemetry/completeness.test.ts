import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyState, markFailed, mergeListing, type O365StreamState } from '../../src/sources/o365/state.ts';
import { o365Health, o365StoredView } from '../../src/sources/o365/health.ts';
import { FileStateStore } from '../../src/state/file-store.ts';
import { completenessKey, CompletenessRecorder, hourKey, parseCompleteness, pruneCompleteness } from '../../src/telemetry/completeness.ts';
import { silentLogger } from '../../src/telemetry/log.ts';
import { storedViews } from '../../src/sources/index.ts';
import { formatStatus, readStatus, streamReport } from '../../src/telemetry/status.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-11-20T10:00:00Z');

async function tempStore(): Promise<FileStateStore> {
  return FileStateStore.open(mkdtempSync(join(tmpdir(), 'auditrelay-completeness-')));
}

describe('completeness ledger', () => {
  it('counts per UTC hour of the source time', () => {
    expect(hourKey(T0 + 59 * 60_000)).toBe('2026-11-20T10');
    expect(hourKey(T0 + H)).toBe('2026-11-20T11');
  });

  it('keeps the last 8 days and drops malformed entries', () => {
    const doc = parseCompleteness({
      v: 1,
      hours: { '2026-11-20T10': { listed: 2, exported: 'x' }, '2026-11-01T00': { listed: 1 }, nonsense: { listed: 5 } },
    });
    expect(doc.hours['2026-11-20T10']).toEqual({ listed: 2, fetched: 0, exported: 0, setAside: 0, lost: 0, records: 0 });
    expect(Object.keys(pruneCompleteness(doc, T0).hours)).toEqual(['2026-11-20T10']);
    expect(parseCompleteness({ v: 9 })).toEqual({ v: 1, hours: {} });
  });

  it('persists only when changed, and a new run of the stream starts from what is stored', async () => {
    const store = await tempStore();
    const a = new CompletenessRecorder(store, 'o365/t/Audit.Exchange', () => T0, silentLogger());
    await a.load();
    a.count('listed', T0, 3);
    a.count('records', T0 + 10, 250);
    a.count('exported', T0 - H);
    await Promise.all([a.persist(), a.persist()]);
    const stored = parseCompleteness(await store.get(completenessKey('o365/t/Audit.Exchange')));
    expect(stored.hours['2026-11-20T10']).toMatchObject({ listed: 3, records: 250 });
    expect(stored.hours['2026-11-20T09']).toMatchObject({ exported: 1 });

    const b = new CompletenessRecorder(store, 'o365/t/Audit.Exchange', () => T0, silentLogger());
    await b.load();
    b.count('listed', T0);
    await b.persist();
    expect(parseCompleteness(await store.get(completenessKey('o365/t/Audit.Exchange'))).hours['2026-11-20T10']?.listed).toBe(4);
    await store.close();
  });

  it('never throws on a failed write, and writes the counts with the next one', async () => {
    const store = await tempStore();
    let fail = true;
    const flaky = { ...store, kind: 'file', location: 'x', keys: store.keys.bind(store), get: store.get.bind(store), close: store.close.bind(store), put: (k: string, v: unknown) => (fail ? Promise.reject(new Error('disk full')) : store.put(k, v)) };
    const r = new CompletenessRecorder(flaky, 's', () => T0, silentLogger());
    r.count('listed', T0);
    await r.persist();
    fail = false;
    await r.persist();
    expect(parseCompleteness(await store.get(completenessKey('s'))).hours['2026-11-20T10']?.listed).toBe(1);
    await store.close();
  });
});

function ledgerState(): O365StreamState {
  const listed = (id: string, created: number) => ({
    contentId: id,
    contentUri: `https://x/${id}`,
    contentCreated: new Date(created).toISOString(),
    contentExpiration: new Date(created + 7 * 24 * H).toISOString(),
  });
  // Created 6.5 days ago: expires within 24 h. Created 1 h ago: does not.
  const now = T0;
  let state = mergeListing(emptyState(), [listed('old', now - 6.5 * 24 * H), listed('new', now - H)], { start: now - 7 * 24 * H, end: now }).state;
  state = markFailed(state, 'new', 'boom', now, 1);
  return { ...state, losses: [{ kind: 'expired', from: now - 8 * 24 * H, to: now - 8 * 24 * H, detail: 'AF20051', at: now - H }] };
}

describe('Office 365 health', () => {
  it('reports the watermark, pending, set-aside, at-risk by expiry and losses from the ledger', () => {
    const health = o365Health(ledgerState(), true);
    expect(health.pending).toBe(2);
    expect(health.setAside).toBe(1);
    expect(health.atRisk?.(T0, 24 * H)).toBe(1);
    expect(health.atRisk?.(T0, 0)).toBe(0);
    expect(health.watermark).toBe(T0 - 6.5 * 24 * H);
    expect(health.subscribed).toBe(true);
    expect(health.losses).toHaveLength(1);
  });
});

describe('status report', () => {
  it('flags gaps, losses, set-aside and at-risk hours, and tells pending apart from gaps', () => {
    const state = ledgerState();
    const oldHour = hourKey(T0 - 6.5 * 24 * H);
    const newHour = hourKey(T0 - H);
    const gapHour = hourKey(T0 - 3 * H);
    const ledger = parseCompleteness({
      v: 1,
      hours: {
        [oldHour]: { listed: 1 },
        [newHour]: { listed: 1, fetched: 0, setAside: 1 },
        [gapHour]: { listed: 5, fetched: 5, exported: 4, records: 400 },
        [hourKey(T0 - 2 * H)]: { listed: 2, fetched: 2, exported: 1, lost: 1, records: 100 },
      },
    });
    const report = streamReport('o365/t/Audit.Exchange', 'o365', o365StoredView(state), ledger, T0, 24 * H);
    const row = (hour: string) => report.hours.find((h) => h.hour === hour)!;
    expect(row(oldHour).flags).toEqual(['AT RISK 1', 'pending 1']);
    expect(row(newHour).flags).toEqual(['SET ASIDE 1', 'pending 1']);
    expect(row(gapHour)).toMatchObject({ gap: 1, flags: ['GAP 1'] });
    expect(row(hourKey(T0 - 2 * H)).flags).toEqual(['LOST 1']);
    expect(report).toMatchObject({ pending: 2, atRisk: 1, setAside: 1, lagMs: 6.5 * 24 * H });
  });

  it('reads every stream from the store and prints one block per stream', async () => {
    const store = await tempStore();
    await store.put('o365/t/Audit.Exchange', ledgerState());
    await store.put(completenessKey('o365/t/Audit.Exchange'), { v: 1, hours: { [hourKey(T0 - 3 * H)]: { listed: 5, fetched: 5, exported: 4, records: 400 } } });
    await store.put('google/C1/login', { v: 1, ages: [0], cursors: [T0 - 600_000], seen: { buckets: [] } });
    await store.put('health/readyz', { at: 'x' });
    const report = await readStatus(store, T0, 24 * H, storedViews);
    expect(report.streams.map((s) => s.id)).toEqual(['google/C1/login', 'o365/t/Audit.Exchange']);
    const text = formatStatus(report);
    expect(text).toContain('o365/t/Audit.Exchange');
    expect(text).toMatch(/2026-11-20T07Z +5 +5 +4 +0 +0 +400 {2}GAP 1/);
    expect(text).toContain('LOSS expired');
    expect(text).toContain('watermark 2026-11-20T09:50:00.000Z (10.0m behind)');
    expect(report.problems).toBeGreaterThan(0);
    await store.close();
  });

  it('with replicas, names the replica holding each stream\'s lease and what its loop does, and flags streams no replica runs', async () => {
    const store = await tempStore();
    await store.put('google/C1/login', { v: 1, ages: [0], cursors: [T0 - 60_000], seen: { buckets: [] } });
    await store.put('google/C1/admin', { v: 1, ages: [0], cursors: [T0 - 60_000], seen: { buckets: [] } });
    const leases = {
      leases: [
        { stream: 'google/C1/admin', owner: 'r1', epoch: 3, live: true, phase: 'running', renewedAgoMs: 1200, expiresInMs: 13_800 },
        { stream: 'google/C1/drive', owner: 'r2', epoch: 1, live: true, phase: 'config-error', renewedAgoMs: 300, expiresInMs: 14_700 },
        { stream: 'google/C1/login', owner: 'r2', epoch: 7, live: false, phase: 'running', renewedAgoMs: 55_000, expiresInMs: -40_000 },
      ],
      replicas: [
        { id: 'r1', live: true, heartbeatAgoMs: 1200, held: 1 },
        { id: 'r2', live: false, heartbeatAgoMs: 55_000, held: 2 },
      ],
    };
    const report = await readStatus(store, T0, 24 * H, storedViews, leases);
    // A stream leased but never stored yet is listed too.
    expect(report.streams.map((s) => s.id)).toEqual(['google/C1/admin', 'google/C1/drive', 'google/C1/login']);
    expect(report.streams[0]?.lease).toMatchObject({ owner: 'r1', epoch: 3, live: true, phase: 'running' });
    // The expired lease and the configuration problem count as problems; the running one does not.
    expect(report.problems).toBe(2);
    const text = formatStatus(report);
    expect(text).toContain('replicas: 1 live: r1 (1 streams, heartbeat 1.2s ago)');
    expect(text).toContain('lease: r1 (epoch 3), running, renewed 1.2s ago');
    expect(text).toContain('lease: r2 (epoch 1), config-error (CONFIGURATION PROBLEM');
    expect(text).toContain('lease: EXPIRED 40.0s ago (last held by r2, epoch 7): NO replica runs this stream');
    // Without a shared store there is no lease line at all.
    expect(formatStatus(await readStatus(store, T0, 24 * H, storedViews))).not.toContain('lease:');
    await store.close();
  });
});
