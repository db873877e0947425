import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Attributes, metrics } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { type IMetricReader, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { TelemetryConfig } from './config.ts';
import type { StreamPhase } from '../core/runner.ts';
import type { StreamHealth } from '../core/source.ts';
import { defaultResource } from '../export/encode.ts';
import { resetInstruments } from './metrics.ts';

/** What the gauges read: the runner (or a test double). */
export interface GaugeSources {
  health(): { id: string; kind: string; health: StreamHealth }[];
  status(): { id: string; phase: StreamPhase; leased: boolean; running: boolean }[];
  /** The budgets the streams draw from (with replicas: the shared ones; `used` counts this process's requests). */
  budgets(): { all(): { key: string; requestsPerMinute: number; usedLastMinute(): number; heldForMs(): number }[] };
  /** This process's name in stream leases ('local' with the embedded store). */
  readonly replicaId: string;
}

export interface MetricsSetup {
  /** Serves the Prometheus text format (GET /metrics). */
  handleMetrics(req: IncomingMessage, res: ServerResponse): void;
  /** Where metrics are pushed over OTLP, if anywhere. */
  readonly otlpUrl: string | undefined;
  /** Pushes the last OTLP export (giving up after `timeoutMs`) and uninstalls the provider. */
  shutdown(timeoutMs: number): Promise<void>;
}

/**
 * Installs the OpenTelemetry metrics SDK for the whole process: a Prometheus reader (served by our
 * own HTTP server, not the exporter's) and, when an OTLP endpoint is configured, a periodic OTLP
 * reader. The resource is the logs' base resource (service.name, service.version, OTEL_RESOURCE_ATTRIBUTES).
 */
export function setupMetrics(config: TelemetryConfig, sources: GaugeSources, env: NodeJS.ProcessEnv = process.env, now: () => number = Date.now): MetricsSetup {
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const readers: IMetricReader[] = [prometheus];
  const otlpUrl = otlpMetricsUrl(config, env);
  if (otlpUrl !== undefined) {
    // Without a url of ours the exporter reads OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT (and _HEADERS) itself.
    const exporter = new OTLPMetricExporter(config.otlpEndpoint === undefined ? {} : { url: otlpUrl });
    readers.push(new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: config.metricsInterval }));
  }
  const provider = new MeterProvider({ resource: defaultResource(), readers });
  metrics.setGlobalMeterProvider(provider);
  resetInstruments();
  registerGauges(provider, config, sources, now);
  return {
    handleMetrics: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    otlpUrl,
    async shutdown(timeoutMs) {
      await provider.shutdown({ timeoutMillis: timeoutMs }).catch(() => undefined);
      metrics.disable();
      resetInstruments();
    },
  };
}

/** config.otlpEndpoint (base URL or full /v1/metrics URL), else the standard variables; undefined: no OTLP push. */
export function otlpMetricsUrl(config: TelemetryConfig, env: NodeJS.ProcessEnv): string | undefined {
  if (config.otlpEndpoint !== undefined) {
    const base = config.otlpEndpoint.replace(/\/+$/, '');
    return base.endsWith('/v1/metrics') ? base : `${base}/v1/metrics`;
  }
  const specific = env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'];
  if (specific) return specific;
  const general = env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  return general ? `${general.replace(/\/+$/, '')}/v1/metrics` : undefined;
}

function registerGauges(provider: MeterProvider, config: TelemetryConfig, sources: GaugeSources, now: () => number): void {
  const meter = provider.getMeter('auditrelay');
  const horizonH = Math.round((config.atRiskHorizon / 3_600_000) * 10) / 10;
  const watermarkAge = meter.createObservableGauge('auditrelay.stream.watermark.age', {
    unit: 's',
    description: 'Now minus the oldest source time not yet fully delivered (the true cursor)',
  });
  const pending = meter.createObservableGauge('auditrelay.stream.pending', { description: 'Blobs/pages listed but not yet delivered' });
  const atRisk = meter.createObservableGauge('auditrelay.stream.at_risk', {
    description: `Blobs not yet delivered that the source deletes within telemetry.atRiskHorizon (${horizonH} h)`,
  });
  const setAside = meter.createObservableGauge('auditrelay.stream.set_aside', { description: 'Blobs set aside after repeated failures, still pending' });
  const losses = meter.createObservableGauge('auditrelay.stream.losses', { description: 'Data losses the stream knows of (kept in its state)' });
  const subscribed = meter.createObservableGauge('auditrelay.subscription.enabled', { description: '1: the source-side subscription is enabled; 0: this stream collects nothing' });
  const up = meter.createObservableGauge('auditrelay.stream.running', { description: '1 while the stream runs in this process, 0 otherwise (see the phase attribute)' });
  const leased = meter.createObservableGauge('auditrelay.stream.leased', { description: '1 while this replica holds the stream\'s lease (always, with the embedded store), 0 otherwise' });
  const leasedNotRunning = meter.createObservableGauge('auditrelay.streams.leased_not_running', {
    description: 'Streams whose lease this replica holds but that no loop runs here: should always be 0 (a lease held for a stream nothing runs stalls it)',
  });
  const budgetUsed = meter.createObservableGauge('auditrelay.budget.used', {
    description: 'Requests this process started in the last minute, per request budget (replicas: sum over replicas for the tenant\'s total)',
  });
  const budgetLimit = meter.createObservableGauge('auditrelay.budget.limit', { description: 'Requests per minute allowed, per request budget (for all replicas together)' });
  const budgetHeld = meter.createObservableGauge('auditrelay.budget.held', { unit: 's', description: 'How long requests of the budget are held after a throttling answer (0: not held)' });

  meter.addBatchObservableCallback(
    (result) => {
      const t = now();
      for (const { id, kind, health } of sources.health()) {
        const attrs: Attributes = { 'auditrelay.stream': id, 'auditrelay.source': kind };
        if (health.watermark !== undefined) result.observe(watermarkAge, Math.max(0, (t - health.watermark) / 1000), attrs);
        if (health.pending !== undefined) result.observe(pending, health.pending, attrs);
        if (health.atRisk) result.observe(atRisk, health.atRisk(t, config.atRiskHorizon), attrs);
        if (health.setAside !== undefined) result.observe(setAside, health.setAside, attrs);
        if (health.losses) result.observe(losses, health.losses.length, attrs);
        if (health.subscribed !== undefined) result.observe(subscribed, health.subscribed ? 1 : 0, attrs);
      }
      const replica = { 'auditrelay.replica': sources.replicaId };
      let orphans = 0;
      for (const s of sources.status()) {
        result.observe(up, s.phase === 'running' ? 1 : 0, { 'auditrelay.stream': s.id, phase: s.phase });
        result.observe(leased, s.leased ? 1 : 0, { 'auditrelay.stream': s.id, ...replica });
        if (s.leased && !s.running) orphans++;
      }
      result.observe(leasedNotRunning, orphans, replica);
      for (const b of sources.budgets().all()) {
        result.observe(budgetUsed, b.usedLastMinute(), { 'auditrelay.budget': b.key });
        result.observe(budgetLimit, b.requestsPerMinute, { 'auditrelay.budget': b.key });
        result.observe(budgetHeld, b.heldForMs() / 1000, { 'auditrelay.budget': b.key });
      }
    },
    [watermarkAge, pending, atRisk, setAside, losses, subscribed, up, leased, leasedNotRunning, budgetUsed, budgetLimit, budgetHeld],
  );
}
