import { describe, expect, it } from 'vitest';
import { DaemonRun, expectNothingLost, finish, seededRandom, sleep, useScenes } from './support.ts';

const scene = useScenes();

describe('fault: SIGKILL at random moments', () => {
  it('delivers every record of both sources at least once across many kill -9 restarts', async () => {
    const seed = Number(process.env['FAULT_SEED'] ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const s = await scene({
      o365: { backlog: '3h', backlogRecords: 6000, blobInterval: '400ms', largeBlobRate: 0.05 },
      google: { applications: ['admin', 'login', 'drive'], history: '1h', eventsPerMinute: 30, lagScale: 1 / 3600, pageSize: 20 },
    });
    // Anywhere from during start-up to well into exporting: 0.2–5 s after each start.
    const kills = 10;
    const moments: number[] = [];
    for (let i = 0; i < kills; i++) {
      const run = new DaemonRun(s.world, s.rss);
      const at = Math.round(200 + random() * 4800);
      moments.push(at);
      await sleep(at);
      run.kill('SIGKILL');
      await run.exited();
    }
    const delivered = s.received.uids().length;
    const outcome = await finish(s, new DaemonRun(s.world, s.rss), 'sigkill-random', 150_000, () => ({ kills, seed, kill_after_ms: moments, delivered_before_last_run: delivered }));
    expectNothingLost(outcome);
    // The kills landed while work was under way (records arrived before the last run started).
    expect(delivered).toBeGreaterThan(0);
  });
});
