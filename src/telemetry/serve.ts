import type { StateStore } from '../core/state-store.ts';
import type { TelemetryConfig } from './config.ts';
import type { ExportWatch } from './export-watch.ts';
import { daemonReadiness, type RunningHttpServer, startHttpServer } from './http-server.ts';
import type { Logger } from '../core/log.ts';
import { type GaugeSources, setupMetrics } from './setup.ts';

/** What of a running daemon its telemetry reads: the runner's streams and budgets, the store, the export endpoint's last answer. */
export interface ObservedDaemon {
  runner: GaugeSources;
  store: StateStore;
  exports: ExportWatch;
}

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
export async function startDaemonTelemetry(config: TelemetryConfig, daemon: ObservedDaemon, log: Logger, httpAddr = config.httpAddr): Promise<DaemonTelemetry> {
  const metricsSetup = setupMetrics(config, daemon.runner);
  if (metricsSetup.otlpUrl) log.info({ endpoint: metricsSetup.otlpUrl, every: config.metricsInterval }, 'pushing metrics over OTLP/HTTP');
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
