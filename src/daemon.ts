import { join } from 'node:path';
import type { Config } from './config/schema.ts';
import { Runner } from './core/runner.ts';
import type { Source } from './core/source.ts';
import { DeadLetterFile } from './export/dead-letter.ts';
import { ResourceCache } from './export/encode.ts';
import { OtlpSender } from './export/otlp-sender.ts';
import { resolveOtlpSettings } from './export/otlp-settings.ts';
import { ConsoleSink, OtlpSink, type Sink } from './export/sink.ts';
import { openStateBackend } from './scale/state-backend.ts';
import { SOURCE_LIST, type SourceKind } from './sources/index.ts';
import type { StateStore } from './core/state-store.ts';
import { ExportWatch } from './telemetry/export-watch.ts';
import type { Logger } from './core/log.ts';
import { CompletenessRecorder } from './telemetry/completeness.ts';
import { exportMetrics, streamMetrics } from './telemetry/metrics.ts';

/** Everything a running daemon is made of; `run`, `demo` and tests build it the same way. */
export interface Daemon {
  runner: Runner;
  store: StateStore;
  sink: Sink;
  /** The export endpoint's last answer, for `/readyz`. */
  exports: ExportWatch;
  /** Stops fetching, waits for in-flight deliveries up to `deadlineMs`, closes the store. */
  stop(deadlineMs: number): Promise<boolean>;
}

/**
 * The configured sources, from the registry. Each is loaded only when configured: a source's client
 * libraries (identity and API clients) cost 20-40 MB of memory each just by being loaded.
 */
export async function createSources(config: Config): Promise<Source[]> {
  const sources: Source[] = [];
  for (const source of SOURCE_LIST) {
    const entries = config.sources[source.kind as SourceKind];
    if (entries.length > 0) sources.push(await source.create(entries, { siem: config.export.siem }));
  }
  return sources;
}

export function createSink(config: Config, log: Logger, deadLetter: DeadLetterFile, watch?: ExportWatch): Sink {
  if (config.export.mode === 'console') return new ConsoleSink();
  const settings = resolveOtlpSettings(config.export);
  log.info({ endpoint: settings.url, protocol: settings.protocol, compression: settings.compression }, 'exporting over OTLP/HTTP');
  return new OtlpSink(new OtlpSender(settings), new ResourceCache(), {
    maxBatchRecords: config.export.maxBatchRecords,
    concurrency: config.export.concurrency,
    retry: { initialMs: config.export.retryInitial, maxMs: config.export.retryMax, multiplier: 2 },
    deadLetter,
    log,
    onRetry: () => exportMetrics.retry(),
    onRequest: (outcome, ms) => {
      exportMetrics.request(outcome, ms);
      watch?.note(outcome, Date.now());
    },
  });
}

/**
 * Reads every stream's stored state once before anything starts, so a corrupt state file stops the
 * daemon with its `StateCorruptError` (`auditrelay run` exits 2 naming the file) rather than that
 * stream restarting against it forever. Nothing is reset: the file is left as it is.
 */
export async function checkStoredState(store: StateStore, sources: Source[]): Promise<void> {
  for (const source of sources) for (const stream of source.streams()) await store.get(stream.id);
}

export async function startDaemon(config: Config, log: Logger): Promise<Daemon> {
  // The file store (this process runs every stream) or postgres (leases shared with other replicas).
  const { store, coordinator, budgets } = await openStateBackend(config.state, log);
  const sources = await createSources(config);
  try {
    await checkStoredState(store, sources);
  } catch (err) {
    await store.close();
    throw err;
  }
  const deadLetter = new DeadLetterFile(config.export.deadLetterFile ?? join(config.state.path, 'dead-letter.ndjson'));
  const exports = new ExportWatch(config.export.mode === 'console' ? undefined : resolveOtlpSettings(config.export).url);
  const sink = createSink(config, log, deadLetter, exports);
  const runner = new Runner({
    sources,
    store,
    sink,
    deadLetter,
    log,
    fetchSlots: config.fetchSlots,
    batchRecords: config.export.maxBatchRecords,
    coordinator,
    budgets,
    metrics: streamMetrics,
    progress: (streamId, streamLog) => new CompletenessRecorder(store, streamId, Date.now, streamLog),
  });
  runner.start();
  return {
    runner,
    store,
    sink,
    exports,
    async stop(deadlineMs: number) {
      const clean = await runner.stop(deadlineMs);
      await sink.close();
      await store.close();
      return clean;
    },
  };
}
