import { afterEach, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../support/harness.ts';
import { DaemonRun, Received, report, RssMonitor, scenarioConfig, settle, sleep, until } from './support.ts';

let world: World | undefined;
let rss: RssMonitor | undefined;
afterEach(async () => {
  rss?.stop();
  await world?.close();
  world = rss = undefined;
});

/** "Minutes" of downtime, scaled: long enough for every fetch slot to fill and many retry rounds. */
const DOWN_MS = 60_000;
/** Memory while the endpoint is down must stay under this (fetch slots bound what is held). */
const DOWN_RSS_BOUND_MB = 300;

describe('fault: the OTLP endpoint', () => {
  it(`is down (connections refused) for ${DOWN_MS / 1000} s, then back: memory stays bounded, nothing is lost`, async () => {
    world = await startWorld({
      o365: { backlog: '3h', backlogRecords: 6000, blobInterval: '300ms', largeBlobRate: 0.05 },
      google: { applications: ['admin', 'login', 'drive'], history: '1h', eventsPerMinute: 60, lagScale: 1 / 3600 },
    });
    scenarioConfig(world);
    rss = new RssMonitor();
    const received = new Received(world);
    const run = new DaemonRun(world, rss);
    const w = world;
    expect(await until(() => w.sink.uids().length >= 500, 60_000)).toBe(true);

    const port = await received.down();
    rss.startPhase();
    const deliveredBeforeDown = received.uids().length;
    // The peak of each half is printed: a bounded daemon levels off; a leaking one keeps climbing.
    await sleep(DOWN_MS / 2);
    const peakFirstHalf = rss.phasePeakMb;
    rss.startPhase();
    await sleep(DOWN_MS / 2);
    const peakDown = Math.max(peakFirstHalf, rss.phasePeakMb);
    const peakSecondHalf = rss.phasePeakMb;
    const retriesLogged = run.grep(/OTLP export failed; holding records and retrying/).length;
    await received.up(port);

    const truth = world.emulators.truth();
    const left = await settle(truth, () => received.uids(), 120_000);
    const code = await run.stop();
    const figures = report('sink-down', truth, received.uids(), rss, {
      down_s: DOWN_MS / 1000,
      peak_rss_down_mb: peakDown,
      peak_rss_down_halves_mb: [peakFirstHalf, peakSecondHalf],
      rss_bound_mb: DOWN_RSS_BOUND_MB,
      delivered_before_down: deliveredBeforeDown,
      export_retries_logged: retriesLogged,
    });
    expect(left.length).toBe(0);
    expect(figures.lost).toBe(0);
    expect(peakDown).toBeGreaterThan(0);
    expect(peakDown).toBeLessThan(DOWN_RSS_BOUND_MB);
    expect(retriesLogged).toBeGreaterThan(0);
    expect(code).toBe(0);
  });

  it('answers 429 and 503 with Retry-After for a while: every record arrives once it accepts again', async () => {
    world = await startWorld({
      o365: { backlog: '2h', backlogRecords: 2000, blobInterval: '500ms' },
      google: { applications: ['admin', 'login'], history: '30m', eventsPerMinute: 30, lagScale: 1 / 3600 },
    });
    scenarioConfig(world);
    rss = new RssMonitor();
    const received = new Received(world);
    const run = new DaemonRun(world, rss);
    const w = world;
    expect(await until(() => w.sink.uids().length >= 200, 60_000)).toBe(true);
    w.sink.setMode({ kind: 'status', status: 429, retryAfter: '1' });
    await sleep(8_000);
    w.sink.setMode({ kind: 'status', status: 503, retryAfter: '2' });
    await sleep(8_000);
    w.sink.setMode({ kind: 'ok' });

    const truth = world.emulators.truth();
    const left = await settle(truth, () => received.uids(), 90_000);
    const code = await run.stop();
    const refused429 = w.sink.requests.get(429) ?? 0;
    const refused503 = w.sink.requests.get(503) ?? 0;
    const figures = report('sink-429-503-retry-after', truth, received.uids(), rss, { refused_429: refused429, refused_503: refused503 });
    expect(left.length).toBe(0);
    expect(figures.lost).toBe(0);
    expect(refused429).toBeGreaterThan(0);
    expect(refused503).toBeGreaterThan(0);
    expect(code).toBe(0);
  });
});
