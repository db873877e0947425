import { afterAll, describe, expect, it } from 'vitest';
import type { Fence } from '../../src/core/state-store.ts';
import { FencedError } from '../../src/core/state-store.ts';
import { PostgresCoordinator } from '../../src/scale/leases.ts';
import { PostgresStateStore } from '../../src/state/postgres-store.ts';
import { silentLogger } from '../../src/telemetry/log.ts';
import { dropSchemas, PG_URL, uniqueSchema } from '../support/postgres.ts';

const schema = uniqueSchema('claim');
const stores: PostgresStateStore[] = [];
afterAll(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  await dropSchemas(schema);
});

const STREAM = 'o365/tenant/Audit.General';

async function coordinator(id: string): Promise<{ store: PostgresStateStore; coord: PostgresCoordinator }> {
  const store = await PostgresStateStore.open({ url: PG_URL, schema });
  stores.push(store);
  return { store, coord: new PostgresCoordinator(store, { ttlMs: 60_000, renewEveryMs: 1000, manual: true }, silentLogger(), id) };
}

describe('Coordinator.claim (a stream written outside the runner, e.g. doctor --fix)', () => {
  it('takes a free stream with a fence of its own, refuses one a live replica holds, and gives it back at once', async () => {
    const doctor = await coordinator('doctor');
    const daemon = await coordinator('daemon');

    const claim = await doctor.coord.claim(STREAM);
    expect(claim?.fence).toMatchObject({ owner: 'doctor' });
    await doctor.store.put(STREAM, { v: 1, lastStartAttempt: 1 }, claim!.fence);
    // While the doctor holds it, a replica cannot take it, and a stale fence cannot write.
    expect(await daemon.coord.claim(STREAM)).toBeUndefined();
    await expect(daemon.store.put(STREAM, { v: 1 }, { owner: 'daemon', epoch: claim!.fence!.epoch })).rejects.toBeInstanceOf(FencedError);
    await claim!.release();

    // Released: the daemon's replica leases it (a later epoch), and the doctor's fence no longer writes.
    const held: Fence[] = [];
    daemon.coord.start([STREAM], { acquired: (_id, fence) => held.push(fence!), stop: async () => undefined, phase: () => 'running' });
    await daemon.coord.tick();
    expect(held).toHaveLength(1);
    expect(held[0]!.epoch).toBeGreaterThan(claim!.fence!.epoch);
    expect(await doctor.store.get(STREAM)).toEqual({ v: 1, lastStartAttempt: 1 });
    await expect(doctor.store.put(STREAM, { v: 1 }, claim!.fence)).rejects.toBeInstanceOf(FencedError);
    expect(await doctor.coord.claim(STREAM)).toBeUndefined();
    await daemon.coord.stop();
    await doctor.coord.stop();
  });
});
