import { afterEach, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../support/harness.ts';
import { DaemonRun, Received, report, RssMonitor, scenarioConfig, seededRandom, settle, sleep } from './support.ts';

let world: World | undefined;
let rss: RssMonitor | undefined;
afterEach(async () => {
  rss?.stop();
  await world?.close();
  world = rss = undefined;
});

describe('fault: SIGKILL at random moments', () => {
  it('delivers every record of both sources at least once across many kill -9 restarts', async () => {
    const seed = Number(process.env['FAULT_SEED'] ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    world = await startWorld({
      o365: { backlog: '3h', backlogRecords: 4000, blobInterval: '400ms', largeBlobRate: 0.05 },
      google: { applications: ['admin', 'login', 'drive'], history: '1h', eventsPerMinute: 30, lagScale: 1 / 3600, pageSize: 20 },
    });
    scenarioConfig(world);
    rss = new RssMonitor();
    const received = new Received(world);
    // Anywhere from during start-up to well into exporting: 0.2–5 s after each start.
    const kills = 10;
    const moments: number[] = [];
    for (let i = 0; i < kills; i++) {
      const run = new DaemonRun(world, rss);
      const at = Math.round(200 + random() * 4800);
      moments.push(at);
      await sleep(at);
      run.kill('SIGKILL');
      await run.exited();
    }
    const delivered = received.uids().length;
    const last = new DaemonRun(world, rss);
    const truth = world.emulators.truth();
    const left = await settle(truth, () => received.uids(), 150_000);
    const code = await last.stop();
    const figures = report('sigkill-random', truth, received.uids(), rss, { kills, seed, kill_after_ms: moments, delivered_before_last_run: delivered });
    expect(left.length).toBe(0);
    expect(figures.lost).toBe(0);
    expect(code).toBe(0);
    // The kills landed while work was under way (records arrived before the last run started).
    expect(delivered).toBeGreaterThan(0);
  });
});
