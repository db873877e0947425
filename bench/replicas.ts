/**
 * Throughput against the number of replicas: N `auditrelay run` processes sharing one PostgreSQL
 * schema drain the same Office 365 backlog (emulated tenants, no new content) into a local OTLP
 * sink; records per second from start until the sink holds every record, for N = 1, 2, 3.
 *
 *   node bench/replicas.ts            # BENCH_TENANTS=4 BENCH_RECORDS=40000 BENCH_REPLICAS=1,2,3
 *   AUDITRELAY_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test
 *
 * The emulators and the sink run in this process, so on a small machine they share the CPU with the
 * replicas: compare the rows with each other, not with other machines.
 *
 * Every API call takes BENCH_LATENCY_MS (default 150 ms, a realistic answer time) and blobs are small
 * (1 to 20 records), so one replica is bound by its own fetch slots × latency, not by the request
 * budget: the situation in which more replicas help. A drain bound by CPU cannot speed up here, where
 * two cores also run the emulators, the sink and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOtlpSink } from '../test/support/otlp-sink.ts';
import { dropSchemas, uniqueSchema } from '../test/support/postgres.ts';
import { type ReplicaProcess, startReplica, startTenants } from '../test/support/replicas.ts';

const PG_URL = process.env['AUDITRELAY_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const TENANTS = Number(process.env['BENCH_TENANTS'] ?? 4);
const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 40_000);
const COUNTS = (process.env['BENCH_REPLICAS'] ?? '1,2,3').split(',').map(Number);
const LATENCY_MS = Number(process.env['BENCH_LATENCY_MS'] ?? 150);

const dir = mkdtempSync(join(tmpdir(), 'auditrelay-bench-replicas-'));
const tenants = await startTenants(
  dir,
  TENANTS,
  {
    subscribed: true,
    blobInterval: 0,
    backlog: '2h',
    backlogRecords: Math.ceil(RECORDS / TENANTS),
    maxLateness: 0,
    maxRecordsPerBlob: 20,
    largeBlobRate: 0,
    latencyMs: LATENCY_MS,
  },
  { pollInterval: '2s', initialLookback: '3h' },
);
const truth = new Set(tenants.truth.list());
console.log(`${TENANTS} tenants × 5 content types = ${TENANTS * 5} streams, ${truth.size} records in the backlog, ${LATENCY_MS} ms per API call`);
console.log('replicas  seconds  records/s  speed-up');

let baseline = 0;
try {
  for (const n of COUNTS) {
    const schema = uniqueSchema('bench');
    const sink = await startOtlpSink({ keepRecords: false });
    const replicas: ReplicaProcess[] = [];
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const id = `bench-${n}-${i}`;
      replicas.push(
        startReplica(dir, id, PG_URL, {
          state: { kind: 'postgres', path: join(dir, id), schema, replicaId: id, leaseTtl: '10s', leaseRenewInterval: '2s' },
          export: { endpoint: sink.endpoint, protocol: 'http/protobuf' },
          log: { level: 'warn' },
          sources: { o365: tenants.entries },
        }),
      );
    }
    let seconds = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      const got = new Set(sink.uids());
      let complete = got.size >= truth.size;
      if (complete) for (const uid of truth) if (!got.has(uid)) complete = false;
      if (complete) {
        seconds = (performance.now() - started) / 1000;
        break;
      }
      if (performance.now() - started > 15 * 60_000) throw new Error(`${n} replicas: not drained after 15 minutes (${got.size}/${truth.size})`);
    }
    for (const r of replicas) r.signal('SIGTERM');
    await Promise.all(replicas.map((r) => r.exited));
    await sink.close();
    await dropSchemas(schema);
    const rate = truth.size / seconds;
    baseline ||= rate;
    console.log(`${String(n).padStart(8)}  ${seconds.toFixed(1).padStart(7)}  ${Math.round(rate).toString().padStart(9)}  ${(rate / baseline).toFixed(2).padStart(8)}`);
  }
} finally {
  await tenants.close();
  rmSync(dir, { recursive: true, force: true });
}
