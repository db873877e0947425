import { describe, expect, it } from 'vitest';
import { DaemonRun, expectNothingLost, finish, sleep, until, useScenes } from './support.ts';

const scene = useScenes();

/** "Minutes" of downtime, scaled: long enough for every fetch slot to fill and many retry rounds. */
const DOWN_MS = 60_000;
/** Memory while the endpoint is down must stay under this (fetch slots bound what is held). */
const DOWN_RSS_BOUND_MB = 300;

describe('fault: the OTLP endpoint', () => {
  it(`is down (connections refused) for ${DOWN_MS / 1000} s, then back: memory stays bounded, nothing is lost`, async () => {
    const s = await scene({
      o365: { backlog: '3h', backlogRecords: 6000, blobInterval: '300ms', largeBlobRate: 0.05 },
      google: { applications: ['admin', 'login', 'drive'], history: '1h', eventsPerMinute: 60, lagScale: 1 / 3600 },
    });
    const run = new DaemonRun(s.world, s.rss);
    expect(await until(() => s.received.uids().length >= 500, 60_000)).toBe(true);

    const port = await s.received.down();
    const deliveredBeforeDown = s.received.uids().length;
    // The peak of each half is printed: a bounded daemon levels off; a leaking one keeps climbing.
    s.rss.startPhase();
    await sleep(DOWN_MS / 2);
    const firstHalf = s.rss.phasePeakMb;
    s.rss.startPhase();
    await sleep(DOWN_MS / 2);
    const secondHalf = s.rss.phasePeakMb;
    const peakDown = Math.max(firstHalf, secondHalf);
    await s.received.up(port);

    const outcome = await finish(s, run, 'sink-down', 120_000, () => ({
      down_s: DOWN_MS / 1000,
      peak_rss_down_mb: peakDown,
      peak_rss_down_halves_mb: [firstHalf, secondHalf],
      rss_bound_mb: DOWN_RSS_BOUND_MB,
      delivered_before_down: deliveredBeforeDown,
      export_retries_logged: run.grep(/OTLP export failed; holding records and retrying/).length,
    }));
    expectNothingLost(outcome);
    expect(peakDown).toBeGreaterThan(0);
    expect(peakDown).toBeLessThan(DOWN_RSS_BOUND_MB);
    expect(outcome.figures['export_retries_logged']).toBeGreaterThan(0);
  });

  it('answers 429 and 503 with Retry-After for a while: every record arrives once it accepts again', async () => {
    const s = await scene({
      o365: { backlog: '2h', backlogRecords: 2000, blobInterval: '500ms' },
      google: { applications: ['admin', 'login'], history: '30m', eventsPerMinute: 30, lagScale: 1 / 3600 },
    });
    const run = new DaemonRun(s.world, s.rss);
    expect(await until(() => s.received.uids().length >= 200, 60_000)).toBe(true);
    const sink = s.world.sink;
    sink.setMode({ kind: 'status', status: 429, retryAfter: '1' });
    await sleep(8_000);
    sink.setMode({ kind: 'status', status: 503, retryAfter: '2' });
    await sleep(8_000);
    sink.setMode({ kind: 'ok' });

    const outcome = await finish(s, run, 'sink-429-503-retry-after', 90_000, () => ({ refused_429: sink.requests.get(429) ?? 0, refused_503: sink.requests.get(503) ?? 0 }));
    expectNothingLost(outcome);
    expect(outcome.figures['refused_429']).toBeGreaterThan(0);
    expect(outcome.figures['refused_503']).toBeGreaterThan(0);
  });
});
