import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StateStore } from '../core/state-store.ts';
import type { ExportWatch } from './export-watch.ts';
import type { Logger } from '../core/log.ts';
import { redactText } from '../secrets/redact.ts';

export interface ReadyCheck {
  ok: boolean;
  detail: string;
}

/** One named readiness check; a check that throws counts as failed with its message. */
export type ReadinessChecks = Record<string, () => Promise<ReadyCheck>>;

export interface HttpServerOptions {
  /** HOST:PORT (port 0: any free port). */
  addr: string;
  metrics(req: IncomingMessage, res: ServerResponse): void;
  ready: ReadinessChecks;
  log: Logger;
}

export interface RunningHttpServer {
  /** HOST:PORT actually bound. */
  readonly address: string;
  close(): Promise<void>;
}

const READY_KEY = 'health/readyz';
const EXPORT_CHECK_TIMEOUT_MS = 2000;

/** The daemon's readiness: config loaded, state store writable, export endpoint reachable. */
export function daemonReadiness(store: StateStore, exports: ExportWatch, now: () => number = Date.now): ReadinessChecks {
  return {
    config: async () => ({ ok: true, detail: 'loaded' }),
    // A real write (tiny document, its own key): it fails on a read-only or full disk, a lost database.
    state: async () => {
      await store.put(READY_KEY, { at: new Date(now()).toISOString() });
      return { ok: true, detail: `${store.kind} store at ${store.location} writable` };
    },
    export: () => exports.check(EXPORT_CHECK_TIMEOUT_MS),
  };
}

/** `/healthz` (alive), `/readyz` (every check passes, JSON details), `/metrics` (Prometheus text). */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { host, port } = parseAddr(options.addr);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return reply(res, 200, 'text/plain', 'ok\n');
    if (path === '/metrics') return options.metrics(req, res);
    if (path === '/readyz') {
      void readiness(options.ready).then((result) => reply(res, result.ready ? 200 : 503, 'application/json', `${JSON.stringify(result)}\n`));
      return;
    }
    reply(res, 404, 'text/plain', 'not found: try /healthz, /readyz or /metrics\n');
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  options.log.info({ address, paths: ['/healthz', '/readyz', '/metrics'] }, 'serving health and metrics');
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function readiness(checks: ReadinessChecks): Promise<{ ready: boolean; checks: Record<string, ReadyCheck> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        return [name, await check()] as const;
      } catch (err) {
        return [name, { ok: false, detail: redactText((err as Error).message) }] as const;
      }
    }),
  );
  return { ready: entries.every(([, r]) => r.ok), checks: Object.fromEntries(entries) };
}

export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(addr);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new Error(`expected HOST:PORT, got "${addr}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
  res.end(body);
}
