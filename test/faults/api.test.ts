import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { restoreState } from '../../src/sources/o365/state.ts';
import { FileStateStore } from '../../src/state/file-store.ts';
import { DaemonRun, expectNothingLost, finish, sleep, until, useScenes } from './support.ts';

const scene = useScenes();

const FAULT_WINDOW_MS = 20_000;
/** Google's side of most scenarios: three applications, lags scaled so an hour takes a second. */
const google = (faultRates: Record<string, number> = {}, quotaPerMinute?: number) => ({
  applications: ['admin', 'login', 'drive'],
  history: '30m',
  eventsPerMinute: 30,
  lagScale: 1 / 3600,
  faultRates,
  ...(quotaPerMinute !== undefined ? { quotaPerMinute } : {}),
});

describe('fault: the audit APIs', () => {
  it('throttle in storms (Office 365 AF429 as 403/429, Google quota 403/429 and a per-minute quota): nothing is lost', async () => {
    const s = await scene({
      o365: { backlog: '2h', backlogRecords: 2000, blobInterval: '500ms', faultRates: { rates: { af429As403: 0.3, af429As429: 0.15, af429As429RetryAfter: 0.15 } } },
      google: google({ quota403: 0.3, quota429: 0.2 }, 120),
    }, { top: { log: { level: 'info' } } });
    const run = new DaemonRun(s.world, s.rss);
    await sleep(FAULT_WINDOW_MS);
    const { o365, google: g } = s.world.emulators.sources;
    o365.setFaults({ all: 0 });
    const quota = { ...g.stats().faults };
    g.setFaults({ all: 0, quotaPerMinute: 0 });
    const outcome = await finish(s, run, 'api-throttling-storm', 150_000, () => ({
      storm_s: FAULT_WINDOW_MS / 1000,
      google_quota_answers: quota.quota403 + quota.quota429 + quota.quotaPerMinute,
      o365_holds_logged: run.grep(/throttled by the API: holding every request of this budget/).filter((l) => l.includes('"budget":"o365/')).length,
      google_holds_logged: run.grep(/throttled by the API: holding every request of this budget/).filter((l) => l.includes('"budget":"google/')).length,
    }));
    expectNothingLost(outcome);
    expect(outcome.figures['o365_holds_logged']).toBeGreaterThan(0);
    expect(outcome.figures['google_holds_logged']).toBeGreaterThan(0);
  });

  it('expire tokens (Office 365 tokens of 5 s and 401s on live tokens; Google tokens revoked early): nothing is lost', async () => {
    const s = await scene({
      o365: { backlog: '1h', backlogRecords: 1000, blobInterval: '500ms', tokenLifetime: '5s', faultRates: { rates: { tokenExpired401: 0.1 } } },
      google: google({ tokenExpired401: 0.15 }),
    });
    const run = new DaemonRun(s.world, s.rss);
    // The faults stay on: every record must arrive while tokens keep expiring.
    await sleep(FAULT_WINDOW_MS / 2);
    const outcome = await finish(s, run, 'api-token-expiry', 120_000, () => ({
      google_tokens_revoked: s.world.emulators.sources.google.stats().faults.tokenExpired401,
      o365_token_lifetime_s: 5,
    }));
    expectNothingLost(outcome);
    expect(outcome.figures['google_tokens_revoked']).toBeGreaterThan(0);
  });

  it('answer 200 with malformed JSON, truncated JSON or an HTML page for a while: retried, nothing is lost', async () => {
    const s = await scene({
      o365: { backlog: '2h', backlogRecords: 2000, blobInterval: '500ms', faultRates: { rates: { malformedBlob200: 0.06, truncatedBlob200: 0.06, htmlBlob200: 0.06 } } },
      google: google({ malformedJson200: 0.08, truncatedJson200: 0.08, html200: 0.08 }),
    });
    const run = new DaemonRun(s.world, s.rss);
    await sleep(FAULT_WINDOW_MS);
    const { o365, google: g } = s.world.emulators.sources;
    o365.setFaults({ all: 0 });
    const broken = { ...g.stats().faults };
    g.setFaults({ all: 0 });
    // A blob that failed three times waits 45 s for its fourth attempt.
    const outcome = await finish(s, run, 'api-broken-200-bodies', 150_000, () => ({
      fault_s: FAULT_WINDOW_MS / 1000,
      o365_blob_retries_logged: run.grep(/content blob fetch failed; will retry/).filter((l) => /blob body is not a valid JSON array/.test(l)).length,
      google_broken_pages: broken.malformedJson200 + broken.truncatedJson200 + broken.html200,
      google_page_retries_logged: run.grep(/activities\.list failed; retrying/).filter((l) => /not an activities page/.test(l)).length,
    }));
    expectNothingLost(outcome);
    expect(outcome.figures['o365_blob_retries_logged']).toBeGreaterThan(0);
    expect(outcome.figures['google_page_retries_logged']).toBeGreaterThan(0);
  });

  it('keep one blob broken for good: it is set aside and reported, not skipped silently', async () => {
    // One blob in the backlog, and every blob GET answers an HTML page behind a 200.
    const s = await scene(
      {
        o365: { backlog: '1h', backlogRecords: 15, largeBlobRate: 0, duplicateRate: 0, lateRate: 0, blobInterval: 0, faultRates: { rates: { htmlBlob200: 1 } } },
        google: { history: 0, eventsPerMinute: 0 },
      },
      { google: false, tenant: { maxBlobAttempts: 2 } },
    );
    const run = new DaemonRun(s.world, s.rss);
    const truth = s.world.emulators.truth();
    const reported = await until(() => run.grep(/content blob set aside after repeated failures/).length > 0, 60_000);
    const code = await run.stop();

    // The ledger keeps it pending, flagged, with the error: retried hourly until it expires.
    const store = await FileStateStore.openReadOnly(join(s.world.dir, 'state'));
    const setAside = [];
    for (const key of await store.keys('o365/')) setAside.push(...restoreState(await store.get(key)).pending.filter((b) => b.setAside));
    const got = new Set(s.received.uids());
    const undelivered = truth.filter((uid) => !got.has(uid)).length;
    console.log(
      JSON.stringify({
        scenario: 'api-blob-broken-for-good',
        // Not delivered, but set aside and reported (log line, ledger, health gauge): not lost.
        lost: setAside.length === 1 && reported ? 0 : undelivered,
        duplicates: 0,
        peak_rss_mb: s.rss.peakMb,
        records: truth.length,
        undelivered_set_aside: undelivered,
        blobs_set_aside: setAside.length,
        last_error: setAside[0]?.lastError,
      }),
    );
    expect(truth.length).toBeGreaterThan(0);
    expect(reported).toBe(true);
    expect(run.grep(/content blob set aside/)[0]).toContain(setAside[0]?.id ?? 'no blob set aside');
    expect(setAside).toHaveLength(1);
    expect(setAside[0]?.lastError).toMatch(/blob body is not a valid JSON array: not a JSON array \(starts with "<!DOCTYPE html>/);
    expect(setAside[0]?.attempts).toBe(2);
    expect(undelivered).toBe(truth.length);
    expect(code).toBe(0);
  });

  it('serve a huge blob (20,000 records): delivered whole, memory printed', async () => {
    const s = await scene(
      {
        o365: { backlog: '1h', backlogRecords: 20_000, largeBlobRate: 1, largeBlobRecords: [20_000, 20_000], duplicateRate: 0, lateRate: 0, blobInterval: 0 },
        google: { history: 0, eventsPerMinute: 0 },
      },
      { google: false },
    );
    const outcome = await finish(s, new DaemonRun(s.world, s.rss), 'api-huge-blob', 120_000, () => ({ blob_records: 20_000 }));
    expectNothingLost(outcome);
    expect(outcome.figures.records).toBe(20_000);
  });
});
