import { afterEach, describe, expect, it } from 'vitest';
import { duplicateCount, exited, missing, spawnDaemon, startWorld, waitFor, type World } from '../support/harness.ts';

/**
 * `auditrelay run` with the Google source, killed with SIGKILL at varied moments while late events
 * keep appearing: every event reaches the sink at least once, the late ones included.
 */
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const googleTruth = (w: World) => {
  const google = w.emulators.sources.google;
  return [...google.store.visibleUids(google.now())];
};

describe('Google Workspace across SIGKILLs of the daemon', () => {
  it('delivers every event at least once, late ones included, across kill -9 restarts', async () => {
    // Lags scaled by 1/3600 (an hour of lag takes a second); the last minute of history becomes visible
    // late, during the kills. No live production, so the truth has an end.
    world = await startWorld({
      o365: { blobInterval: 0 },
      google: { applications: ['admin', 'login', 'drive'], history: '2h', eventsPerMinute: 60, live: false, lagScale: 1 / 3600, pageSize: 20 },
    });
    const w = world;
    let kills = 0;
    for (let i = 0; i < 5; i++) {
      const child = spawnDaemon(w);
      const before = w.sink.uids().length;
      await waitFor(() => w.sink.uids().length > before, 60_000, () => `run ${i}: nothing delivered`);
      await new Promise((r) => setTimeout(r, 150 + ((i * 577) % 1300)));
      child.kill('SIGKILL');
      await exited(child);
      kills++;
    }
    const google = w.emulators.sources.google;
    const last = spawnDaemon(w);
    try {
      await waitFor(
        () => missing(googleTruth(w), w.sink.uids()).length === 0 && google.store.size > 0,
        150_000,
        () => `${missing(googleTruth(w), w.sink.uids()).length} of ${googleTruth(w).length} Google events missing`,
      );
    } finally {
      last.kill('SIGTERM');
      expect(await exited(last)).toBe(0);
    }
    expect(kills).toBe(5);
    const received = w.sink.uids();
    expect(missing(googleTruth(w), received)).toEqual([]);
    // Repeats only around the kill points (at most the pages in flight per kill).
    expect(duplicateCount(received)).toBeLessThan(received.length / 2);
  }, 300_000);
});
