import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.ts';
import { Runner } from '../../src/core/runner.ts';
import { createSink } from '../../src/daemon.ts';
import type { GoogleEmulatorOptions } from '../../src/sources/google/emulator/index.ts';
import { DeadLetterFile } from '../../src/export/dead-letter.ts';
import { createGoogleSource } from '../../src/sources/google/source.ts';
import { FileStateStore } from '../../src/state/file-store.ts';
import { createLogger, silentLogger } from '../../src/telemetry/log.ts';
import { daemonConfig, duplicateCount, missing, startWorld, waitFor, type World } from '../support/harness.ts';

/**
 * The Google source end to end through the real `google-auth-library` (JWT bearer grant with
 * delegation, CA from config) and `@googleapis/admin`, against the emulator, into an OTLP sink.
 */

let world: World | undefined;
let running: { runner: Runner; stop(): Promise<void> } | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
  await world?.close();
  world = undefined;
});

async function startGoogle(google: GoogleEmulatorOptions, stage?: string): Promise<World> {
  // Office 365 serves nothing here (no backlog, no new blobs): the truth is Google's alone.
  return startWorld({ google, o365: { blobInterval: 0 }, ...(stage ? { stage } : {}) });
}

/** The daemon's parts with only the Google source, as `startDaemon` composes them. */
async function runGoogle(config: Config): Promise<{ runner: Runner; stop(): Promise<void> }> {
  const log = process.env.GDEBUG ? createLogger('warn') : silentLogger();
  const store = await FileStateStore.open(config.state.path);
  const deadLetter = new DeadLetterFile(join(config.state.path, 'dead-letter.ndjson'));
  const sink = createSink(config, log, deadLetter);
  const runner = new Runner({ sources: [createGoogleSource(config.sources.google, { siem: config.export.siem })], store, sink, deadLetter, log, fetchSlots: 4, batchRecords: 1000 });
  runner.start();
  return {
    runner,
    async stop() {
      await runner.stop(10_000);
      await sink.close();
      await store.close();
    },
  };
}

const caughtUp = (w: World) => {
  const truth = w.emulators.truth();
  return truth.length > 0 && missing(truth, w.sink.uids()).length === 0;
};
const progress = (w: World) => () => `${missing(w.emulators.truth(), w.sink.uids()).length} of ${w.emulators.truth().length} truth events missing; sink has ${w.sink.uids().length}`;

/** Re-poll ages scaled so a lag of an hour takes five seconds. */
const SCALED = (c: Config) => {
  c.sources.google[0]!.repollAgeScale = 1 / 720;
};

describe('Google Workspace end to end: emulator → google-auth-library + @googleapis/admin → OTLP', () => {
  it('back-fills through many pages and exports one record per event, each once', async () => {
    world = await startGoogle({ applications: ['admin', 'login', 'drive'], history: '40m', eventsPerMinute: 20, lagScale: 1e-5, pageSize: 17 });
    running = await runGoogle(daemonConfig(world, SCALED));
    await waitFor(() => caughtUp(world!), 60_000, progress(world));
    expect(world.emulators.truth().length).toBeGreaterThan(2400);
    expect(duplicateCount(world.sink.uids())).toBe(0);
    const rec = world.sink.records.find((r) => Array.isArray((r.body as { events?: unknown[] }).events))!;
    const body = rec.body as { id: { time: string }; events: unknown[] };
    expect(body.events).toHaveLength(1);
    expect(Number(rec.timeUnixNano / 1_000_000n)).toBe(Date.parse(body.id.time));
    expect(world.emulators.sources.google.stats().requests).toBeGreaterThan(2400 / 17);
  });

  it('exports events that become visible late and out of order, soon after they appear, and only once', async () => {
    world = await startGoogle({ applications: ['admin', 'login'], history: '10m', eventsPerMinute: 0, lagScale: 1e-5, pageSize: 50 });
    running = await runGoogle(daemonConfig(world, SCALED));
    await waitFor(() => caughtUp(world!), 60_000, progress(world));
    const google = world.emulators.sources.google;
    const now = google.now();
    // Newer events are exported first; these older ones only show up seconds later.
    const late = [
      google.store.generate('login', now - 20_000, 26_000),
      google.store.generate('login', now - 2_000, 9_000),
      google.store.generate('admin', now - 1_000, 3_000),
      google.store.generate('admin', now, 0),
    ];
    const lateUids = late.flatMap((a) => a.uids);
    const notYet = missing(lateUids, world.sink.uids());
    expect(notYet.length).toBeGreaterThan(0);
    await waitFor(() => missing(lateUids, world!.sink.uids()).length === 0, 90_000, () => `late events missing: ${missing(lateUids, world!.sink.uids()).length}`);
    // Let a few more re-polls of those windows pass: they must not export anything again.
    const before = world.sink.uids().length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(world.sink.uids().length).toBe(before);
    expect(duplicateCount(world.sink.uids())).toBe(0);
  });

  it('backs off on quota 403s and 429s, survives 503s and pagination bugs, and loses nothing', async () => {
    world = await startGoogle({
      applications: ['admin', 'login', 'token'],
      history: '30m',
      eventsPerMinute: 20,
      lagScale: 1e-5,
      pageSize: 25,
      faultRates: { quota403: 0.05, quota429: 0.02, unavailable503: 0.03, repeatedToken: 0.04, emptyPage: 0.05 },
    });
    running = await runGoogle(daemonConfig(world, SCALED));
    await waitFor(() => caughtUp(world!), 100_000, progress(world));
    const faults = world.emulators.sources.google.stats().faults;
    expect(faults.quota403).toBeGreaterThan(0);
    expect(faults.quota429).toBeGreaterThan(0);
    expect(faults.repeatedToken).toBeGreaterThan(0);
    expect(faults.emptyPage).toBeGreaterThan(0);
    expect(missing(world.emulators.truth(), world.sink.uids())).toEqual([]);
    expect(duplicateCount(world.sink.uids())).toBe(0);
  }, 150_000);

  it('holds the whole project budget when the per-minute quota is exceeded', async () => {
    world = await startGoogle({ applications: ['admin', 'login'], history: '20m', eventsPerMinute: 30, lagScale: 1e-5, pageSize: 20, quotaPerMinute: 40 });
    running = await runGoogle(daemonConfig(world, SCALED));
    await waitFor(() => world!.emulators.sources.google.stats().faults.quotaPerMinute > 0, 60_000, () => 'quota never exceeded');
    const budget = running.runner.budgets().all().find((b) => b.key === 'google/auditrelay-emulated')!;
    expect(budget).toBeDefined();
    expect(budget.heldForMs()).toBeGreaterThan(0);
    world.emulators.sources.google.setFaults({ quotaPerMinute: 0 });
    await waitFor(() => caughtUp(world!), 120_000, progress(world));
  });

  for (const [stage, hint] of [
    ['no-delegation', /domain-wide delegation[\s\S]*admin\.reports\.audit\.readonly/],
    ['no-reports-privilege', /Reports privilege/],
    ['clock-skew', /clock[\s\S]*NTP/],
  ] as const) {
    it(`stops the stream with a fix hint when Google refuses, and tries again later: ${stage}`, async () => {
      world = await startGoogle({ applications: ['admin'], history: '5m', eventsPerMinute: 0 }, stage);
      running = await runGoogle(daemonConfig(world));
      const status = () => running!.runner.status().find((s) => s.id.startsWith('google/'))!;
      await waitFor(() => status().phase === 'config-error', 30_000, () => `phase ${status().phase}: ${status().lastError}`);
      expect(status().hint).toMatch(hint);
      expect(`${status().lastError} ${status().hint}`).not.toMatch(/PRIVATE KEY/);
      expect(world.sink.uids()).toEqual([]);
    });
  }
});
