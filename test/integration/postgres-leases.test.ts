import { afterAll, describe, expect, it } from 'vitest';
import { PostgresCoordinator } from '../../src/scale/leases.ts';
import { PostgresStateStore } from '../../src/state/postgres-store.ts';
import { type Fence, FencedError } from '../../src/core/state-store.ts';
import { silentLogger } from '../../src/telemetry/log.ts';
import { dropSchemas, PG_URL, uniqueSchema, waitFor } from '../support/postgres.ts';

const schema = uniqueSchema('leases');
const stores: PostgresStateStore[] = [];
afterAll(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  await dropSchemas(schema);
});

const STREAMS = Array.from({ length: 10 }, (_, i) => `o365/tenant-${i % 2}/type-${i}`);
const TTL_MS = 1000;

/** Every lease ever handed out, to check no (stream, epoch) went to two replicas. */
const acquisitions: { stream: string; epoch: number; owner: string }[] = [];

interface Replica {
  id: string;
  store: PostgresStateStore;
  coord: PostgresCoordinator;
  /** Streams whose loop would be running in this replica, with the fence they commit with. */
  running: Map<string, Fence>;
  stopped: string[];
}

/** A replica: its own pool (as a separate process has), ticked by the test rather than a timer. */
async function replica(id: string): Promise<Replica> {
  const store = await PostgresStateStore.open({ url: PG_URL, schema });
  stores.push(store);
  const coord = new PostgresCoordinator(store, { ttlMs: TTL_MS, renewEveryMs: 250, manual: true }, silentLogger(), id);
  const r: Replica = { id, store, coord, running: new Map(), stopped: [] };
  coord.start(STREAMS, {
    acquired: (stream, fence) => {
      expect(r.running.has(stream)).toBe(false);
      r.running.set(stream, fence!);
      acquisitions.push({ stream, epoch: fence!.epoch, owner: id });
    },
    stop: async (stream) => {
      r.running.delete(stream);
      r.stopped.push(stream);
    },
    phase: (stream) => (r.running.has(stream) ? 'running' : undefined),
  });
  return r;
}

/** Ticks the given replicas until `done` holds (each tick renews, rebalances, acquires). */
async function tickUntil(what: string, replicas: Replica[], done: () => boolean): Promise<void> {
  await waitFor(what, async () => {
    for (const r of replicas) await r.coord.tick();
    return done() ? true : undefined;
  }, 30_000, 50);
}

/** Among replicas that are alive, every stream runs in exactly one, and each holds its fair share. */
function balanced(replicas: Replica[]): boolean {
  const owners = STREAMS.map((s) => replicas.filter((r) => r.running.has(s)).length);
  const share = Math.ceil(STREAMS.length / replicas.length);
  return owners.every((n) => n === 1) && replicas.every((r) => r.running.size <= share && r.coord.held().length === r.running.size);
}

function assertNoSharedEpochs(): void {
  const seen = new Map<string, string>();
  for (const a of acquisitions) {
    const key = `${a.stream}#${a.epoch}`;
    expect(seen.get(key) ?? a.owner, `${key} acquired twice`).toBe(a.owner);
    seen.set(key, a.owner);
  }
}

describe('stream leases in postgres', () => {
  it('shares streams fairly, takes over a dead replica, fences a paused one, rebalances, and hands back on stop', async () => {
    const a = await replica('replica-a');
    await a.coord.tick();
    expect(a.running.size).toBe(STREAMS.length); // alone: everything
    expect([...a.running.values()].every((f) => f.epoch === 1 && f.owner === 'replica-a')).toBe(true);

    // Two replicas join: replica-a hands streams over down to ceil(10/3) = 4, the others pick them up.
    const b = await replica('replica-b');
    const c = await replica('replica-c');
    await tickUntil('three-way balance', [a, b, c], () => balanced([a, b, c]));
    expect(a.running.size).toBe(4);
    expect(a.stopped.length).toBe(6);
    assertNoSharedEpochs();

    // replica-c stops renewing (killed, or paused): after the TTL its streams move, epoch + 1.
    const cHeld = new Map(c.running);
    await tickUntil('takeover of replica-c', [a, b], () => balanced([a, b]));
    expect(a.running.size + b.running.size).toBe(STREAMS.length);
    for (const [stream, fence] of cHeld) {
      const now = a.running.get(stream) ?? b.running.get(stream);
      expect(now!.epoch).toBe(fence.epoch + 1);
    }
    assertNoSharedEpochs();

    // The new owner commits; replica-c, resumed, still believes it holds its streams: refused.
    const [stream, stale] = [...cHeld.entries()][0]!;
    const owner = a.running.get(stream) ?? b.running.get(stream)!;
    await a.store.put(stream, { cursor: 'new' }, owner);
    await expect(c.store.put(stream, { cursor: 'stale' }, stale)).rejects.toThrow(FencedError);
    expect(await a.store.get(stream)).toEqual({ cursor: 'new' });

    // Its next tick finds the leases gone and stops every one of its streams.
    await c.coord.tick();
    expect(c.coord.held()).toEqual([]);
    expect(c.running.size).toBe(0);
    expect(c.stopped.sort()).toEqual([...cHeld.keys()].sort());

    // Back in the game, it gets its share again.
    await tickUntil('rebalance after replica-c returns', [a, b, c], () => balanced([a, b, c]));
    assertNoSharedEpochs();

    // A clean stop hands every lease back at once: the others take them (epoch + 1).
    const aHeld = new Map(a.running);
    await a.coord.stop();
    expect(a.running.size).toBe(0);
    await tickUntil('takeover after replica-a stopped', [b, c], () => balanced([b, c]));
    for (const [s, fence] of aHeld) expect((b.running.get(s) ?? c.running.get(s))!.epoch).toBe(fence.epoch + 1);
    assertNoSharedEpochs();
    await b.coord.stop();
    await c.coord.stop();
    const leases = await b.store.pool.query(`SELECT count(*)::int AS n FROM ${b.store.table('leases')} WHERE expires_at > clock_timestamp()`);
    expect(leases.rows[0].n).toBe(0);
  });

  it('lets only one of many replicas racing for a free stream take it', async () => {
    const racers = await Promise.all(['race-1', 'race-2', 'race-3', 'race-4'].map((id) => replica(id)));
    // All tick at once, repeatedly: each stream must end up in exactly one.
    await waitFor('racers balanced', async () => {
      await Promise.all(racers.map((r) => r.coord.tick()));
      return balanced(racers) ? true : undefined;
    }, 30_000, 20);
    assertNoSharedEpochs();
    await Promise.all(racers.map((r) => r.coord.stop()));
  });

  it('hands back, rather than renews, a lease whose stream no loop runs here; ignores a refusal made under an older lease', async () => {
    const a = await replica('orphan-a');
    await tickUntil('replica alone with every stream', [a], () => a.running.size === STREAMS.length);
    // A loop gone without the coordinator being told (what a stream stopped on a configuration
    // error used to be): its lease must not be renewed for a stream nothing runs.
    const [gone, before] = [...a.running.entries()][0]!;
    a.running.delete(gone);
    await a.coord.tick();
    // Handed back, then taken again at this tick like any free stream: a new loop, a new epoch.
    expect(a.running.get(gone)?.epoch).toBe(before.epoch + 1);
    const row = await a.store.pool.query(`SELECT epoch, phase FROM ${a.store.table('leases')} WHERE stream = $1`, [gone]);
    expect(Number(row.rows[0].epoch)).toBe(before.epoch + 1);
    // Every other lease carries what its loop reported at renewal.
    await a.coord.tick();
    const phases = await a.store.pool.query(`SELECT DISTINCT phase FROM ${a.store.table('leases')} WHERE expires_at > clock_timestamp()`);
    expect(phases.rows.map((r) => r.phase)).toEqual(['running']);

    // A commit refused under an older epoch of a stream leased here again keeps the newer lease.
    const [kept, fence] = [...a.running.entries()][1]!;
    a.coord.lost(kept, { owner: 'orphan-a', epoch: fence.epoch - 1 });
    expect(a.coord.held()).toContain(kept);
    a.coord.lost(kept, fence);
    expect(a.coord.held()).not.toContain(kept);
    assertNoSharedEpochs();
    await a.coord.stop();
  });
});
