import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLI, duplicateCount, missing } from '../support/harness.ts';
import { dropSchemas, PG_URL, uniqueSchema } from '../support/postgres.ts';
import { type ReplicaProcess, startReplica } from '../support/replicas.ts';
import { report, seededRandom, settle, sleep, until, useScenes } from './support.ts';

const scene = useScenes();

/**
 * Every record the emulators had made available when the last fault ended must be at the sink
 * within this long after it. Two minutes is the bar issue 17 sets; a correct daemon needs about
 * 10-30 s here (lease TTL 15 s, then catching up), so the margin covers a loaded 2-core machine.
 * What is checked is "within N s of the last fault", not speed.
 */
const DEADLINE_MS = 120_000;
const KILLS = 6;
const FREEZE_MS = 45_000;

const isO365 = (uid: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(uid);

let replicas: ReplicaProcess[] = [];
let schema: string | undefined;
afterEach(async () => {
  for (const r of replicas) {
    r.signal('SIGCONT');
    r.signal('SIGKILL');
  }
  await Promise.allSettled(replicas.map((r) => r.exited));
  // FAULT_LOG_DIR=/tmp/x keeps every replica's whole log there, one file per process.
  const dir = process.env['FAULT_LOG_DIR'];
  if (dir) {
    mkdirSync(dir, { recursive: true });
    for (const r of replicas) writeFileSync(join(dir, `replica-${process.pid}-${r.id}.ndjson`), [...r.logs.map((l) => JSON.stringify(l)), ...r.other].join('\n'));
  }
  replicas = [];
  if (schema) await dropSchemas(schema);
  schema = undefined;
});

interface StatusJson {
  replicas?: { id: string; live: boolean }[];
  streams: { id: string; lease?: { owner: string; live: boolean; phase?: string } }[];
}

describe('fault: three replicas on postgres', () => {
  it(`one SIGKILLed ${KILLS} times, another frozen ${FREEZE_MS / 1000} s past its lease, API faults on both sources: every record within ${DEADLINE_MS / 1000} s of the last fault, each stream run by its one owner`, async () => {
    const seed = Number(process.env['FAULT_SEED'] ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    // Realistic API faults on both emulators (throttling, 401s, 5xx, slow and broken answers, repeated
    // page tokens, Google's per-minute quota), subscriptions not started yet (the replicas start them).
    const s = await scene({
      faults: true,
      o365: { backlog: '2h', backlogRecords: 3000, blobInterval: '400ms', largeBlobRate: 0.02 },
      google: { applications: ['admin', 'login', 'drive'], history: '30m', eventsPerMinute: 30, lagScale: 1 / 3600, pageSize: 20 },
    });
    const { world } = s;
    schema = uniqueSchema('faultrep');
    const doc = parse(readFileSync(world.emulators.config, 'utf8'));
    const streams = doc.sources.o365.length * 5 + doc.sources.google.reduce((n: number, c: { applications: string[] }) => n + c.applications.length, 0);
    const configOf = (id: string) => ({
      ...doc,
      // Default lease times (15 s / 5 s), as a deployment would have them.
      state: { kind: 'postgres', path: join(world.dir, id), schema, replicaId: id },
      export: { endpoint: world.sink.endpoint, protocol: 'http/protobuf', retryInitial: '200ms', retryMax: '2s' },
      log: { level: 'info' },
      shutdownTimeout: '10s',
    });
    const running = new Map<string, ReplicaProcess>();
    const start = (id: string) => {
      const r = startReplica(world.dir, id, PG_URL, configOf(id));
      replicas.push(r);
      running.set(id, r);
      s.rss.watch(r.child.pid);
      return r;
    };

    start('r1');
    const frozen = start('r2');
    let killed = start('r3');
    expect(await until(() => world.sink.uids().length >= 200, 90_000)).toBe(true);

    // r3: SIGKILL six times at random 3-10 s intervals, restarted each time under a new name (as a
    // Deployment's pod is), so its dead incarnations still count as live replicas until they expire.
    const intervals: number[] = [];
    for (let i = 1; i <= KILLS; i++) {
      const ms = Math.round(3000 + random() * 7000);
      intervals.push(ms);
      await sleep(ms);
      killed.signal('SIGKILL');
      await killed.exited;
      running.delete(killed.id);
      killed = start(`r3-${i}`);
    }
    // r2: frozen well past its 15 s lease while its streams are busy, then resumed and left alone.
    frozen.signal('SIGSTOP');
    await sleep(FREEZE_MS);
    frozen.signal('SIGCONT');
    const lastFault = Date.now();
    const { o365, google } = world.emulators.sources;
    o365.setFaults({ all: 0 });
    google.setFaults({ all: 0, quotaPerMinute: 0 });
    const truth = world.emulators.truth();

    const left = await settle(truth, () => world.sink.uids(), DEADLINE_MS);
    const deliveredAfterS = Math.round((Date.now() - lastFault) / 100) / 10;

    // Ownership settles: every stream leased by a running replica whose loop runs it (status reads
    // the leases; each replica also says it holds no lease for a stream it does not run).
    const statusEnv = { ...process.env, AUDITRELAY_STATE_URL: PG_URL, NODE_NO_WARNINGS: '1' };
    const statusConfig = join(world.dir, 'r1', 'auditrelay.yaml');
    let status: StatusJson | undefined;
    const owned = () => {
      const out = spawnSync(process.execPath, [CLI, 'status', '--config', statusConfig, '--json'], { env: statusEnv, encoding: 'utf8' });
      status = out.status === 0 ? (JSON.parse(out.stdout) as StatusJson) : undefined;
      const leases = status?.streams.map((st) => st.lease) ?? [];
      return leases.length === streams && leases.every((l) => l?.live && running.has(l.owner) && l.phase === 'running');
    };
    const converged = await until(owned, 60_000);
    const metrics = await Promise.all([...running.values()].map((r) => scrape(r)));
    const leasedNotRunning = metrics.map((m) => gauge(m, 'auditrelay_streams_leased_not_running'));
    const leasedTotal = metrics.reduce((n, m) => n + sumGauge(m, 'auditrelay_stream_leased'), 0);
    const budgetSeries = metrics.map((m) => (m.match(/^auditrelay_budget_limit\{/gm) ?? []).length);

    for (const r of running.values()) r.signal('SIGTERM');
    const codes = await Promise.all([...running.values()].map((r) => r.exited));
    const received = world.sink.uids();
    // Nothing delivered that the emulators did not make (the truth only grows: read it last).
    const everything = new Set(world.emulators.truth());
    const phantom = [...new Set(received)].filter((uid) => !everything.has(uid));
    const logs = replicas.flatMap((r) => r.logs);
    const count = (pattern: RegExp) => logs.filter((l) => pattern.test(l.msg)).length;
    const owners: Record<string, number> = {};
    for (const st of status?.streams ?? []) if (st.lease) owners[st.lease.owner] = (owners[st.lease.owner] ?? 0) + 1;

    const figures = report('replicas-kill-freeze', truth, received, s.rss, {
      replicas: 3,
      streams,
      kills: KILLS,
      kill_intervals_ms: intervals,
      frozen_s: FREEZE_MS / 1000,
      seed,
      deadline_s: DEADLINE_MS / 1000,
      delivered_within_s: left.length === 0 ? deliveredAfterS : null,
      missing_google: left.filter((u) => !isO365(u)).length,
      missing_o365: left.filter(isO365).length,
      phantom: phantom.length,
      owners_at_end: owners,
      leased_not_running: leasedNotRunning,
      leases_reported: leasedTotal,
      lease_takeovers: count(/^lease acquired/),
      commits_refused: count(/^commit refused/),
      leases_lost_on_renewal: count(/^lease lost/),
      orphan_leases_handed_back: count(/no longer runs here/),
      google_holds_logged: count(/^quota exceeded: holding the project budget/),
      window_rereads_logged: count(/^window read incompletely/),
      exit_codes: codes,
    });
    if (left.length > 0 || !converged) {
      console.log(
        JSON.stringify({
          scenario: 'replicas-kill-freeze',
          diagnosis: left.length > 0 ? 'records missing' : 'ownership did not settle',
          missing_sample: left.slice(0, 5),
          status: status?.streams.map((st) => ({ id: st.id, ...st.lease })),
          last_warnings: replicas.map((r) => ({ replica: r.id, lines: r.logs.filter((l) => l.level !== 'info').slice(-8).map((l) => `${l.msg} ${l.stream ?? ''}`) })),
        }, null, 1),
      );
    }

    expect(figures.lost).toBe(0);
    expect(left).toEqual([]);
    expect(phantom).toEqual([]);
    expect(converged).toBe(true);
    expect(leasedNotRunning).toEqual(metrics.map(() => 0));
    expect(leasedTotal).toBe(streams);
    // The budget gauges read the shared budgets the streams draw from (one per tenant and project).
    expect(budgetSeries.every((n) => n > 0)).toBe(true);
    expect(codes.every((c) => c === 0)).toBe(true);
    for (const r of replicas) expect(r.other.filter((l) => /Error/.test(l)), `${r.id} crashed`).toEqual([]);
    expect(duplicateCount(received)).toBe(figures.duplicates);
    expect(missing(truth, received)).toEqual([]);
  }, 420_000);
});

/** The replica's /metrics text (its address is in its log; port 0 picked a free one). */
async function scrape(r: ReplicaProcess): Promise<string> {
  const address = r.logs.find((l) => l.msg === 'serving health and metrics')?.['address'];
  if (typeof address !== 'string') return '';
  try {
    return await (await fetch(`http://${address}/metrics`)).text();
  } catch {
    return '';
  }
}

function gauge(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}\\{[^}]*\\} ([0-9.]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

function sumGauge(text: string, name: string): number {
  return [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} ([0-9.]+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
}
