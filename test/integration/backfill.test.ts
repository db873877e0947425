import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/index.ts';
import type { ProgressSnapshot } from '../../src/backfill/plan.ts';
import { type LoadedConfig, loadConfigFile } from '../../src/config/load.ts';
import { type RunningEmulators, startEmulators } from '../../src/emulators.ts';
import { FileStateStore } from '../../src/state/file-store.ts';
import { silentLogger } from '../../src/telemetry/log.ts';
import { type OtlpSink, startOtlpSink } from '../support/otlp-sink.ts';

let emulators: RunningEmulators | undefined;
let sink: OtlpSink | undefined;
afterEach(async () => {
  await sink?.close();
  await emulators?.close();
  emulators = undefined;
  sink = undefined;
});

/** A fixed backlog (no live production, no late blobs): the window's truth is known before the backfill starts. */
async function world(backlogRecords: number): Promise<LoadedConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'auditrelay-backfill-'));
  emulators = await startEmulators({ dir, seed: 5, faults: false, o365: { backlog: '3h', backlogRecords, blobInterval: 0, lateRate: 0 }, google: { live: false } });
  sink = await startOtlpSink();
  const loaded = loadConfigFile(emulators.config);
  loaded.config.export.endpoint = sink.endpoint;
  loaded.config.export.retryInitial = 100;
  loaded.config.log.level = 'silent';
  return loaded;
}

const missingFrom = (truth: string[], got: string[]) => {
  const have = new Set(got);
  return truth.filter((u) => !have.has(u));
};

describe('auditrelay backfill against the emulator backlog', () => {
  it('delivers every record of the window through the daemon\'s export path, then stops with the state caught up', async () => {
    const loaded = await world(2000);
    const truth = emulators!.truth();
    expect(truth.length).toBeGreaterThan(1000);
    const seen: ProgressSnapshot[] = [];
    const result = await runBackfill(loaded, { sinceMs: 4 * 3_600_000, log: silentLogger(), pollMs: 100, onProgress: (s) => seen.push(s) });
    expect(result.outcome).toBe('caught-up');
    expect(result.failed).toEqual([]);
    expect(missingFrom(truth, sink!.uids())).toEqual([]);
    expect(result.snapshot.caughtUp).toBe(result.snapshot.streams);
    expect(result.snapshot.records).toBe(sink!.uids().length);
    // Progress only moves forward and ends at 100 %.
    const fractions = seen.map((s) => s.fraction);
    expect(fractions.at(-1)).toBe(1);
    // Every Office 365 stream's committed cursor reached the moment the backfill started: `run` continues from there.
    const store = await FileStateStore.open(loaded.config.state.path);
    const keys = await store.keys('o365/');
    expect(keys).toHaveLength(5);
    for (const key of keys) expect((await store.get(key)) as { listedUntil: number }).toMatchObject({ listedUntil: expect.any(Number) });
    for (const key of keys) expect(((await store.get(key)) as { listedUntil: number }).listedUntil).toBeGreaterThanOrEqual(Math.floor(result.startedAt / 1000) * 1000);
    await store.close();
  });

  it('resumes after an interruption: the second run continues from the committed state and completes the window', async () => {
    const loaded = await world(4000);
    const truth = emulators!.truth();
    // A slow endpoint, so the interruption lands in the middle of the drain.
    sink!.setMode({ kind: 'delay', ms: 150 });
    const abort = new AbortController();
    const watcher = setInterval(() => {
      if (sink!.uids().length >= 300) abort.abort();
    }, 20);
    const first = await runBackfill(loaded, { sinceMs: 4 * 3_600_000, log: silentLogger(), pollMs: 100, signal: abort.signal });
    clearInterval(watcher);
    expect(first.outcome).toBe('interrupted');
    const afterFirst = sink!.uids().length;
    expect(missingFrom(truth, sink!.uids()).length).toBeGreaterThan(0);

    sink!.setMode({ kind: 'ok' });
    const second = await runBackfill(loaded, { sinceMs: 4 * 3_600_000, log: silentLogger(), pollMs: 100 });
    expect(second.outcome).toBe('caught-up');
    expect(missingFrom(truth, sink!.uids())).toEqual([]);
    // It continued: streams with state were not restarted from the look-back, so the second run sent
    // only what the first had not (plus at most the blobs in flight at the interruption).
    expect(second.continued.length).toBeGreaterThan(0);
    expect(second.snapshot.records).toBeLessThan(new Set(truth).size);
    expect(sink!.uids().length - new Set(sink!.uids()).size).toBeLessThan(afterFirst);
  });
});
