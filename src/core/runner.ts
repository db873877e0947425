import PQueue from 'p-queue';
import type { DeadLetterFile } from '../export/dead-letter.ts';
import type { Sink } from '../export/sink.ts';
import type { StateStore } from '../state/store.ts';
import type { Logger } from '../telemetry/log.ts';
import { streamMetrics } from '../telemetry/metrics.ts';
import { backoffDelay } from './backoff.ts';
import { BudgetRegistry } from './budget-local.ts';
import type { AuditRecord } from './record.ts';
import { type Source, type Stream, type StreamContext, StreamConfigError } from './source.ts';
import { formatDuration, isAbortError, sleep } from './time.ts';

export type StreamPhase = 'running' | 'restarting' | 'stopped-config-error' | 'stopped';

export interface StreamStatus {
  id: string;
  phase: StreamPhase;
  lastError?: string;
  hint?: string;
  exported: number;
  rejected: number;
}

export interface RunnerOptions {
  sources: Source[];
  store: StateStore;
  sink: Sink;
  deadLetter: DeadLetterFile;
  log: Logger;
  /** Blobs/pages held in memory at once across all streams. */
  fetchSlots: number;
  now?: () => number;
}

const RESTART_BACKOFF = { initialMs: 1000, maxMs: 5 * 60_000, multiplier: 2 };

/**
 * The scheduler: runs every stream of every source side by side, each in a supervised loop.
 * It knows sources only through `Source`/`Stream`; budgets, state, delivery and memory bounds are
 * handed to streams through their context.
 */
export class Runner {
  readonly #options: RunnerOptions;
  readonly #budgets = new BudgetRegistry();
  readonly #slots: PQueue;
  readonly #abort = new AbortController();
  readonly #status = new Map<string, StreamStatus>();
  readonly #tasks: Promise<void>[] = [];
  readonly #now: () => number;

  constructor(options: RunnerOptions) {
    this.#options = options;
    this.#slots = new PQueue({ concurrency: options.fetchSlots });
    this.#now = options.now ?? Date.now;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  budgets(): BudgetRegistry {
    return this.#budgets;
  }

  start(): void {
    const seen = new Set<string>();
    for (const source of this.#options.sources) {
      for (const stream of source.streams()) {
        if (seen.has(stream.id)) throw new Error(`two streams share the id ${stream.id}: check the config for duplicate tenants or customers`);
        seen.add(stream.id);
        this.#status.set(stream.id, { id: stream.id, phase: 'running', exported: 0, rejected: 0 });
        this.#tasks.push(this.#supervise(source.kind, stream));
      }
    }
    this.#options.log.info({ streams: seen.size }, 'started');
  }

  status(): StreamStatus[] {
    return [...this.#status.values()];
  }

  /** Stops fetching, lets in-flight deliveries finish until `deadlineMs`, then returns. State is never left torn. */
  async stop(deadlineMs: number): Promise<boolean> {
    this.#abort.abort();
    const all = Promise.allSettled(this.#tasks).then(() => true);
    const timedOut = sleep(deadlineMs).then(() => false);
    const finished = await Promise.race([all, timedOut]);
    for (const source of this.#options.sources) await source.close?.();
    return finished;
  }

  /** Resolves when every stream has ended (aborted or stopped on a config error). */
  async done(): Promise<void> {
    await Promise.allSettled(this.#tasks);
  }

  async #supervise(kind: string, stream: Stream): Promise<void> {
    const log = this.#options.log.child({ stream: stream.id });
    const status = this.#status.get(stream.id)!;
    const ctx = this.#context(kind, stream, log, status);
    for (let attempt = 0; !this.signal.aborted; attempt++) {
      try {
        status.phase = 'running';
        await stream.run(ctx);
        if (this.signal.aborted) break;
        attempt = 0;
      } catch (err) {
        if (this.signal.aborted && isAbortError(err)) break;
        if (err instanceof StreamConfigError) {
          status.phase = 'stopped-config-error';
          status.lastError = err.message;
          status.hint = err.hint;
          log.error({ err: err.message, fix: err.hint }, 'stream stopped: configuration problem (other streams go on)');
          return;
        }
        status.phase = 'restarting';
        status.lastError = (err as Error).message;
        const delay = backoffDelay(RESTART_BACKOFF, attempt);
        log.error({ err, restartIn: formatDuration(delay) }, 'stream failed; restarting from its last committed state');
        await sleep(delay, this.signal);
      }
    }
    status.phase = 'stopped';
  }

  #context(kind: string, stream: Stream, log: Logger, status: StreamStatus): StreamContext {
    const { store, sink } = this.#options;
    const metrics = streamMetrics(stream.id, kind);
    const signal = this.signal;
    return {
      signal,
      budget: this.#budgets.get(stream.budgetKey, stream.requestsPerMinute),
      state: {
        load: () => store.get(stream.id),
        commit: (value) => store.put(stream.id, value),
      },
      deliver: async (records: AuditRecord[]) => {
        if (records.length === 0) return { accepted: 0, rejected: 0 };
        const report = await sink.send(stream.id, stream.resource, records, signal);
        status.exported += report.accepted;
        status.rejected += report.rejected;
        metrics.recordsExported(report.accepted);
        if (report.rejected) metrics.recordsRejected(report.rejected);
        const now = this.#now();
        for (const r of records) metrics.eventLagMs(now - r.timeUnixMs);
        return report;
      },
      withFetchSlot: (fn) => this.#slots.add(fn, { signal }) as Promise<Awaited<ReturnType<typeof fn>>>,
      setAside: async (reason, raw) => {
        await this.#options.deadLetter.write(stream.id, reason, raw, { setAside: true });
        metrics.recordsSetAside(raw.length);
        log.error({ reason, count: raw.length, deadLetter: this.#options.deadLetter.path }, 'input set aside in the dead-letter file');
      },
      log,
      metrics,
      now: this.#now,
      sleep: (ms) => sleep(ms, signal),
    };
  }
}
