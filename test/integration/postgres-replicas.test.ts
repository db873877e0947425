import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../src/state/postgres-migrations.ts';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink.ts';
import { dropSchemas, PG_URL, pgQuery, uniqueSchema, waitFor } from '../support/postgres.ts';
import { type ReplicaProcess, startReplica, startTenants, type Tenants } from '../support/replicas.ts';

/**
 * Three `auditrelay run` processes share 15 streams (3 tenants × 5 content types) through postgres.
 * One is SIGKILLed, another SIGSTOPped past its lease and resumed, the killed one comes back; the
 * OTLP sink must end up with every record the emulators made available, no stale commit may land,
 * and every (stream, epoch) lease must have gone to one replica only.
 */
const schema = uniqueSchema('e2e');
const s = quoteIdent(schema);
const dir = mkdtempSync(join(tmpdir(), 'auditrelay-replicas-'));
// Short enough for a quick test, long enough for a loaded two-core machine to renew in time.
const TTL = '5s';

let tenants: Tenants | undefined;
let sink: OtlpSink | undefined;
const replicas: ReplicaProcess[] = [];

afterAll(async () => {
  for (const r of replicas) {
    r.signal('SIGCONT');
    r.signal('SIGKILL');
  }
  await Promise.allSettled(replicas.map((r) => r.exited));
  await tenants?.close();
  await sink?.close();
  await dropSchemas(schema);
  // AUDITRELAY_E2E_KEEP=1 keeps the folder with each replica's log (<dir>/<replica>/log.ndjson).
  if (process.env['AUDITRELAY_E2E_KEEP']) {
    for (const r of replicas) writeFileSync(join(dir, r.id, `log-${r.child.pid}.ndjson`), r.logs.map((l) => JSON.stringify(l)).join('\n'));
    console.log(`replica logs kept in ${dir}`);
  } else rmSync(dir, { recursive: true, force: true });
});

interface LeaseRow {
  stream: string;
  owner: string;
  epoch: number;
  live: boolean;
}
interface StateRow {
  key: string;
  owner: string | null;
  epoch: number | null;
}

async function leases(): Promise<LeaseRow[]> {
  const rows = await pgQuery<{ stream: string; owner: string; epoch: string; live: boolean }>(
    `SELECT stream, owner, epoch, expires_at > clock_timestamp() AS live FROM ${s}.leases ORDER BY stream`,
  ).catch((err: { code?: string }) => {
    if (err.code === '42P01') return []; // the replicas have not created the schema yet
    throw err;
  });
  return rows.map((r) => ({ ...r, epoch: Number(r.epoch) }));
}

/** Live leases per owner. */
async function holdings(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const l of await leases()) if (l.live) out.set(l.owner, [...(out.get(l.owner) ?? []), l.stream]);
  return out;
}

describe('three replicas over postgres', () => {
  it('survive SIGKILL and SIGSTOP past the lease: nothing lost, stale commits refused, one owner per lease', async () => {
    tenants = await startTenants(dir, 3, { subscribed: true, blobInterval: 150, backlog: '20m', maxLateness: '5s', pageSize: 20, largeBlobRate: 0 }, {
      pollInterval: '1s',
      initialLookback: '1h',
      relistOverlap: '5m',
    });
    sink = await startOtlpSink({ keepRecords: false });
    const streamCount = 15;
    const config = (id: string) => ({
      state: { kind: 'postgres', path: join(dir, id), schema, replicaId: id, leaseTtl: TTL, leaseRenewInterval: '1s' },
      // A long export timeout: deliveries in flight when r2 is stopped complete when it resumes.
      export: { endpoint: sink!.endpoint, protocol: 'http/protobuf', timeout: '60s', retryInitial: '100ms', retryMax: '1s' },
      log: { level: 'info' },
      shutdownTimeout: '5s',
      sources: { o365: tenants!.entries },
    });
    const start = (id: string) => {
      const r = startReplica(dir, id, PG_URL, config(id));
      replicas.push(r);
      return r;
    };

    // Sample leases and state documents all along: epochs never go back, and every accepted write
    // was made under a lease that some replica acquired.
    const samples: { at: number; leases: LeaseRow[]; state: StateRow[] }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [l, st] = await Promise.all([
          leases(),
          pgQuery<{ key: string; owner: string | null; epoch: string | null }>(`SELECT key, owner, epoch FROM ${s}.state WHERE owner IS NOT NULL`).catch(() => []),
        ]);
        samples.push({ at: Date.now(), leases: l, state: st.map((r) => ({ ...r, epoch: r.epoch === null ? null : Number(r.epoch) })) });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const r1 = start('r1');
    const r2 = start('r2');
    const r3 = start('r3');
    const balanced = async (ids: string[]) => {
      const h = await holdings();
      const covered = [...h.values()].flat().length === streamCount;
      const share = Math.ceil(streamCount / ids.length);
      const fair = ids.every((id) => (h.get(id)?.length ?? 0) >= 1 && (h.get(id)?.length ?? 0) <= share);
      return covered && fair && [...h.keys()].every((id) => ids.includes(id)) ? h : undefined;
    };
    await waitFor('three replicas sharing the streams', () => balanced(['r1', 'r2', 'r3']), 60_000, 200);
    await waitFor('records flowing', () => (sink!.uids().length > 2000 ? true : undefined), 60_000);

    // SIGKILL r3: after its lease TTL, r1 and r2 take its streams over.
    const r3Streams = (await holdings()).get('r3') ?? [];
    r3.signal('SIGKILL');
    await r3.exited;
    await waitFor('r3 taken over', () => balanced(['r1', 'r2']), 60_000, 200);

    // SIGSTOP r2 past its lease while it has deliveries in flight (a slow collector), so it
    // resumes holding acknowledged but uncommitted work: r1 meanwhile takes everything.
    sink.setMode({ kind: 'delay', ms: 400 });
    await new Promise((r) => setTimeout(r, 1500));
    const before = await leases();
    const r2Streams = before.filter((l) => l.live && l.owner === 'r2');
    const r2Epochs = new Map(r2Streams.map((l) => [l.stream, l.epoch]));
    r2.signal('SIGSTOP');
    await waitFor('r1 holding every stream', () => balanced(['r1']), 60_000, 200);
    const seenBeforeResume = sink.uids().length;
    await waitFor('r1 delivering alone', () => (sink!.uids().length > seenBeforeResume + 500 ? true : undefined), 60_000);

    // SIGCONT r2: its leases are gone; whatever it tries to commit for them is refused.
    const resumedAt = Date.now();
    r2.signal('SIGCONT');
    await waitFor('r2 noticing every lost lease', () => {
      const stopped = new Set(
        r2.logs.filter((l) => typeof l.stream === 'string' && /lease lost|commit refused/.test(l.msg)).map((l) => l.stream as string),
      );
      return r2Streams.every((l) => stopped.has(l.stream)) ? true : undefined;
    }, 60_000);
    sink.setMode({ kind: 'ok' });
    await waitFor('r1 and r2 rebalanced', () => balanced(['r1', 'r2']), 60_000, 200);

    // r3 comes back under the same name: three-way share again, with new epochs.
    const r3b = start('r3');
    await waitFor('three replicas again', () => balanced(['r1', 'r2', 'r3']), 60_000, 200);

    // A replica whose renewals stall while its streams keep working (here: its heartbeat row locked,
    // so its coordinator waits on the database): past the TTL the others take its streams over, and
    // every commit it then makes is refused by the store.
    const r3bStreams = (await holdings()).get('r3') ?? [];
    const blocker = new pg.Client({ connectionString: PG_URL });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(`SELECT id FROM ${s}.replicas WHERE id = 'r3' FOR UPDATE`);
    await waitFor('r3 streams taken over', async () => {
      const h = await holdings();
      return r3bStreams.every((st) => !(h.get('r3') ?? []).includes(st)) && (await balanced(['r1', 'r2'])) ? true : undefined;
    }, 60_000, 200);
    await waitFor('r3 commits refused', () => (r3b.logs.some((l) => /commit refused/.test(l.msg)) ? true : undefined), 60_000);
    await blocker.query('ROLLBACK');
    await blocker.end();
    await waitFor('three replicas once more', () => balanced(['r1', 'r2', 'r3']), 60_000, 200);

    // Nothing lost: every record the emulators made available so far reaches the sink.
    const truth = tenants.truth.list();
    const missing = await waitFor(
      'every record delivered',
      () => {
        const got = new Set(sink!.uids());
        const left = truth.filter((u) => !got.has(u));
        return left.length === 0 ? left : undefined;
      },
      90_000,
      250,
    ).catch(() => {
      const got = new Set(sink!.uids());
      return truth.filter((u) => !got.has(u));
    });

    for (const r of [r1, r2, r3b]) r.signal('SIGTERM');
    const codes = await Promise.all([r1, r2, r3b].map((r) => r.exited));
    sampling = false;
    await sampler;

    // --- what happened
    const refused = r2.logs.filter((l) => /commit refused/.test(l.msg));
    const r3bRefused = r3b.logs.filter((l) => /commit refused/.test(l.msg));
    const lost = r2.logs.filter((l) => /lease lost/.test(l.msg));
    const acquisitions = [r1, r2, r3, r3b].flatMap((r) =>
      r.logs.filter((l) => l.msg.startsWith('lease acquired')).map((l) => ({ replica: r.id, stream: l.stream as string, epoch: Number(l.epoch) })),
    );
    const delivered = sink.uids();
    const summary = {
      streams: streamCount,
      truth: truth.length,
      delivered: delivered.length,
      distinctDelivered: new Set(delivered).size,
      missing: missing.length,
      r3StreamsAtKill: r3Streams.length,
      r2StreamsAtStop: r2Streams.length,
      r2CommitsRefused: refused.length,
      r2LeasesLostOnRenew: lost.length,
      r3StreamsWhenStalled: r3bStreams.length,
      r3CommitsRefused: r3bRefused.length,
      acquisitions: acquisitions.length,
      samples: samples.length,
      exitCodes: codes,
    };
    console.log(`replicas e2e: ${JSON.stringify(summary)}`);
    for (const r of [r1, r2, r3, r3b]) {
      const notable = new Map<string, number>();
      for (const l of r.logs) if (l.level === 'warn' || l.level === 'error') notable.set(l.msg, (notable.get(l.msg) ?? 0) + 1);
      console.log(`${r.id} warnings: ${JSON.stringify(Object.fromEntries(notable))}`);
    }

    expect(missing).toEqual([]);
    expect(codes).toEqual([0, 0, 0]);
    for (const r of [r1, r2, r3, r3b]) expect(r.other.filter((l) => /Error/.test(l)), `${r.id} crashed`).toEqual([]);

    // One replica per (stream, epoch); epochs grow by one at each takeover.
    const owners = new Map<string, string>();
    for (const a of acquisitions) {
      const key = `${a.stream}#${a.epoch}`;
      expect(owners.get(key) ?? a.replica, `${key} acquired by two replicas`).toBe(a.replica);
      owners.set(key, a.replica);
    }
    for (const stream of new Set(acquisitions.map((a) => a.stream))) {
      const epochs = acquisitions.filter((a) => a.stream === stream).map((a) => a.epoch).sort((x, y) => x - y);
      expect(epochs).toEqual(epochs.map((_, i) => epochs[0]! + i));
    }
    // r2's streams were taken over while it was stopped (epoch + 1 or more, by someone else).
    const after = new Map((await leases()).map((l) => [l.stream, l]));
    for (const [stream, epoch] of r2Epochs) expect(after.get(stream)!.epoch).toBeGreaterThan(epoch);

    // Sampled: lease epochs and state epochs never went back; every state write carried a lease
    // someone acquired; after r2 resumed, none of its old-epoch writes landed.
    const lastLease = new Map<string, number>();
    const lastState = new Map<string, number>();
    for (const sample of samples) {
      for (const l of sample.leases) {
        expect(l.epoch).toBeGreaterThanOrEqual(lastLease.get(l.stream) ?? 0);
        lastLease.set(l.stream, l.epoch);
      }
      for (const st of sample.state) {
        // A stream's completeness ledger is written under the stream's own lease.
        const stream = st.key.replace(/^completeness\//, '');
        expect(st.epoch!).toBeGreaterThanOrEqual(lastState.get(st.key) ?? 0);
        lastState.set(st.key, st.epoch!);
        expect(owners.get(`${stream}#${st.epoch}`), `state of ${st.key} written under an unknown lease`).toBe(st.owner);
        if (sample.at > resumedAt + 1000 && st.owner === 'r2') expect(r2Epochs.get(stream)).not.toBe(st.epoch);
      }
    }
    // The stale replica did try, and was refused (or found its leases gone first and stopped).
    expect(refused.length + lost.length).toBeGreaterThanOrEqual(r2Streams.length);
    // The stalled one kept working and was refused, stream by stream.
    expect(r3bRefused.length).toBeGreaterThanOrEqual(1);
    for (const l of r3bRefused) expect(r3bStreams).toContain(l.stream);
  }, 420_000);
});
