import type { Config } from '../config/schema.ts';
import type { Daemon } from '../daemon.ts';
import { daemonReadiness, type RunningHttpServer, startHttpServer } from './http-server.ts';
import type { Logger } from './log.ts';
import { setupMetrics } from './setup.ts';

export interface DaemonTelemetry {
  /** HOST:PORT of /healthz, /readyz, /metrics; undefined if the address could not be bound. */
  readonly httpAddress: string | undefined;
  /** Stops serving and pushes the last metrics, within `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}

/**
 * The running daemon's self-telemetry: the metrics SDK (Prometheus, OTLP if configured) and the
 * health/metrics HTTP server. A taken port is reported loudly but does not stop the export itself.
 */
export async function startDaemonTelemetry(config: Config, daemon: Daemon, log: Logger, httpAddr = config.telemetry.httpAddr): Promise<DaemonTelemetry> {
  const metricsSetup = setupMetrics(config.telemetry, daemon.runner);
  if (metricsSetup.otlpUrl) log.info({ endpoint: metricsSetup.otlpUrl, every: config.telemetry.metricsInterval }, 'pushing metrics over OTLP/HTTP');
  let server: RunningHttpServer | undefined;
  try {
    server = await startHttpServer({ addr: httpAddr, metrics: metricsSetup.handleMetrics, ready: daemonReadiness(daemon.store, daemon.exports), log });
  } catch (err) {
    log.error({ addr: httpAddr, err: (err as Error).message, fix: 'free the port or set telemetry.httpAddr / --http-addr' }, 'cannot serve /healthz, /readyz and /metrics; exporting goes on without them');
  }
  return {
    httpAddress: server?.address,
    async close(timeoutMs) {
      await server?.close();
      await metricsSetup.shutdown(timeoutMs);
    },
  };
}
