import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { type DecodedLogRecord, decodeJsonLogs, decodeProtobufLogs, protobufLogUids } from './otlp-decode.ts';

/**
 * A local OTLP/HTTP logs endpoint for tests, fault scenarios and benchmarks. It decodes what it
 * receives (protobuf or JSON, gzip or not) and can be told to fail the way collectors do.
 */
export type SinkMode =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'partial'; rejected: number }
  | { kind: 'hang' }
  /** Accept as 'ok' does, but answer each request only after `ms` (a slow collector). */
  | { kind: 'delay'; ms: number };

export interface OtlpSink {
  endpoint: string;
  /** Every record accepted (2xx without rejections), in arrival order. */
  records: DecodedLogRecord[];
  /** Requests seen, by answer status. */
  requests: Map<number, number>;
  setMode(mode: SinkMode): void;
  /** `keepRecords: false` keeps only counts and uids (benchmarks). */
  uids(): string[];
  close(): Promise<void>;
}

export async function startOtlpSink(options: { keepRecords?: boolean; port?: number } = {}): Promise<OtlpSink> {
  const keep = options.keepRecords ?? true;
  let mode: SinkMode = { kind: 'ok' };
  const records: DecodedLogRecord[] = [];
  const uids: string[] = [];
  const requests = new Map<number, number>();
  const count = (status: number) => requests.set(status, (requests.get(status) ?? 0) + 1);

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    const answer = () => {
      if (mode.kind === 'hang') return; // never answer: the client's timeout must fire
      if (req.method !== 'POST' || req.url !== '/v1/logs') {
        count(404);
        res.writeHead(404).end();
        return;
      }
      if (mode.kind === 'status') {
        count(mode.status);
        res.writeHead(mode.status, mode.retryAfter ? { 'retry-after': mode.retryAfter } : {}).end('refused by test sink');
        return;
      }
      const raw = Buffer.concat(chunks);
      const gzip = req.headers['content-encoding'] === 'gzip';
      const json = String(req.headers['content-type']).includes('json');
      let decoded: DecodedLogRecord[] = [];
      // Without keepRecords only the uids are wanted: protobuf takes the fast path (framing checked,
      // bodies skipped by length); anything it cannot read as one string uid a record is decoded fully.
      let fastUids: string[] | undefined;
      try {
        const body = gzip ? gunzipSync(raw, { chunkSize: gunzippedSize(raw) }) : raw;
        if (!keep && !json) fastUids = protobufLogUids(body);
        if (!fastUids) decoded = json ? decodeJsonLogs(body.toString('utf8')) : decodeProtobufLogs(new Uint8Array(body));
      } catch (err) {
        count(400);
        res.writeHead(400).end(`undecodable: ${(err as Error).message}`);
        return;
      }
      if (mode.kind === 'partial') {
        count(200);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ partialSuccess: { rejectedLogRecords: mode.rejected, errorMessage: 'test sink rejects' } }));
        return;
      }
      if (fastUids) for (const uid of fastUids) uids.push(uid);
      for (const r of decoded) {
        uids.push(String(r.attributes['log.record.uid']));
        if (keep) records.push(r);
      }
      count(200);
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : undefined);
    };
    req.on('end', () => (mode.kind === 'delay' ? void setTimeout(answer, mode.ms) : answer()));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    records,
    requests,
    setMode: (m) => {
      mode = m;
    },
    uids: () => uids,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The output chunk for gunzipping `gz` in one piece: its trailer's ISIZE (the size mod 2^32), within
 * 64 KiB..64 MiB so a broken trailer costs nothing much. Saves about a quarter of the CPU of the
 * default 16 KiB chunks (no concatenation of a hundred pieces for a 2 MB request).
 */
function gunzippedSize(gz: Buffer): number {
  const isize = gz.length >= 18 ? gz.readUInt32LE(gz.length - 4) : 0;
  return Math.min(Math.max(isize + 64, 64 * 1024), 64 * 1024 * 1024);
}

