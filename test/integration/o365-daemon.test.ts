import { afterEach, describe, expect, it } from 'vitest';
import { FileStateStore } from '../../src/state/file-store.ts';
import { restoreState } from '../../src/sources/o365/state.ts';
import { daemonConfig, duplicateCount, exited, spawnDaemon, startInProcess, startWorld, waitFor, waitForTruth, type World } from '../support/harness.ts';

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});


describe('Office 365 end to end: emulator → daemon (msal-node, undici) → OTLP', () => {
  it('starts the subscriptions, follows pagination, and delivers every record with its uid and raw body', async () => {
    world = await startWorld({ o365: { backlog: '3h', backlogRecords: 1500, blobInterval: '500ms', pageSize: 3 } });
    const daemon = await startInProcess(daemonConfig(world, (c) => (c.sources.o365[0]!.pollInterval = 500)));
    try {
      await waitForTruth(world, 60_000);
      // Office 365 repeats records across blobs by design; without crashes the daemon drops the repeats it saw.
      expect(duplicateCount(world.sink.uids())).toBe(0);
      const rec = world.sink.records.find((r) => String(r.resource['auditrelay.source'] ?? r.eventName).includes('o365'))!;
      const body = rec.body as Record<string, unknown>;
      expect(rec.attributes['log.record.uid']).toBe(body['Id']);
      expect(Number(rec.timeUnixNano / 1_000_000n)).toBe(Date.parse(`${String(body['CreationTime'])}Z`));
      expect(rec.eventName).not.toBe('');
    } finally {
      await daemon.stop(10_000);
    }
  });

  it('loses nothing under throttling (AF429 as 403 and 429), 5xx, slow answers and token expiry', async () => {
    world = await startWorld({ faults: true, o365: { backlog: '2h', backlogRecords: 1000, blobInterval: '500ms' } });
    const daemon = await startInProcess(daemonConfig(world, (c) => (c.sources.o365[0]!.pollInterval = 500)));
    try {
      await waitForTruth(world, 100_000);
    } finally {
      await daemon.stop(10_000);
    }
  });

  it('holds everything while the OTLP endpoint is down and advances no cursor until it is back', async () => {
    world = await startWorld({ o365: { backlog: '1h', backlogRecords: 300, blobInterval: 0 } });
    world.sink.setMode({ kind: 'status', status: 503 });
    const config = daemonConfig(world, (c) => (c.sources.o365[0]!.pollInterval = 300));
    const daemon = await startInProcess(config);
    await waitFor(() => (world!.sink.requests.get(503) ?? 0) > 3, 30_000, () => 'no export attempt reached the sink');
    await daemon.stop(5_000);
    // Nothing was acknowledged, so no blob may be marked done.
    const store = await FileStateStore.open(config.state.path);
    for (const key of await store.keys('o365/')) {
      expect(Object.keys(restoreState(await store.get(key)).done)).toEqual([]);
    }
    await store.close();
    world.sink.setMode({ kind: 'ok' });
    const again = await startInProcess(config);
    try {
      await waitForTruth(world, 60_000);
    } finally {
      await again.stop(5_000);
    }
  });

  it('delivers every record at least once across SIGKILLs of the daemon mid-export', async () => {
    world = await startWorld({ o365: { backlog: '6h', backlogRecords: 6000, blobInterval: '300ms', largeBlobRate: 0.1 } });
    // Slow the sink a little so kills land mid-export.
    let kills = 0;
    for (let i = 0; i < 5; i++) {
      const child = spawnDaemon(world);
      const before = world.sink.uids().length;
      await waitFor(() => world!.sink.uids().length > before, 60_000, () => `run ${i}: nothing delivered`);
      await new Promise((r) => setTimeout(r, 200 + ((i * 373) % 900)));
      child.kill('SIGKILL');
      await exited(child);
      kills++;
    }
    const last = spawnDaemon(world);
    try {
      await waitForTruth(world, 90_000);
    } finally {
      last.kill('SIGTERM');
      expect(await exited(last)).toBe(0);
    }
    const received = world.sink.uids();
    // Duplicates only around the kill points: at most the blobs in flight at each kill can be sent
    // again (fetch slots × the largest blob), plus records of pages re-read after a kill.
    expect(kills).toBe(5);
    expect(duplicateCount(received)).toBeLessThan(kills * 16 * 5000);
  });
});
