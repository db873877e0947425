/**
 * OTLP protobuf encoding cost alone: OpenTelemetry's serializer (toLogRecord + ProtobufLogsSerializer,
 * what auditrelay used before) against encodeLogsProtobuf, on the same mapped records in batches of
 * 1,000, Office 365 records from the emulator's catalogue and Google events from its generator.
 *
 *   node bench/encode.ts [--rounds 7] [--records 20000]
 *
 * Prints one JSON line a source: median, min and max CPU ms (user + system) per 1,000 records over the
 * rounds after 3 of warm-up (each round encodes every batch once with each encoder, alternating which
 * goes first), and the average record size on the wire.
 */
import { parseArgs } from 'node:util';
import type { AuditRecord } from '../src/core/record.ts';
import { encodeRecords, encodeRequest, ResourceCache, toLogRecord } from '../src/export/encode.ts';
import { googleSampleRecords, o365SampleRecords, type SampleRecords } from '../test/support/sample-records.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, records: { type: 'string', default: '20000' } } });
const ROUNDS = Number(values.rounds);
const RECORDS = Number(values.records);
const BATCH = 1000;
const WARMUP = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function measure(source: string, { records, resourceAttrs }: SampleRecords): void {
  const resource = new ResourceCache().for(resourceAttrs);
  const batches: AuditRecord[][] = [];
  for (let i = 0; i < records.length; i += BATCH) batches.push(records.slice(i, i + BATCH));
  const encoders = {
    otel: (batch: AuditRecord[]) =>
      encodeRequest(
        batch.map((r) => toLogRecord(r, resource)),
        'http/protobuf',
      ),
    direct: (batch: AuditRecord[]) => encodeRecords(batch, resource, 'http/protobuf'),
  };
  let bytes = 0;
  for (const batch of batches) {
    const a = encoders.otel(batch);
    const b = encoders.direct(batch);
    if (!Buffer.from(a).equals(Buffer.from(b))) throw new Error(`${source}: the encoders disagree`);
    bytes += b.byteLength;
  }
  const ms: Record<keyof typeof encoders, number[]> = { otel: [], direct: [] };
  for (let round = -WARMUP; round < ROUNDS; round++) {
    const order = round % 2 ? (['direct', 'otel'] as const) : (['otel', 'direct'] as const);
    for (const name of order) {
      // CPU time (user + system) rather than wall time: the machine may be busy with other work.
      const started = process.cpuUsage();
      for (const batch of batches) encoders[name](batch);
      const used = process.cpuUsage(started);
      if (round >= 0) ms[name].push(((used.user + used.system) / 1000 / records.length) * BATCH);
    }
  }
  const stats = (xs: number[]) => ({ median: round2(median(xs)), min: round2(Math.min(...xs)), max: round2(Math.max(...xs)) });
  const otel = stats(ms.otel);
  const direct = stats(ms.direct);
  console.log(
    JSON.stringify({
      source,
      records: records.length,
      bytes_per_record: Math.round(bytes / records.length),
      otel_ms_per_1000: otel,
      direct_ms_per_1000: direct,
      speedup: round2(otel.median / direct.median),
    }),
  );
}

const o365 = o365SampleRecords(RECORDS, Date.now());
measure('o365', { ...o365, records: o365.records.slice(0, RECORDS) });
measure('google', googleSampleRecords(RECORDS, Date.now()));
