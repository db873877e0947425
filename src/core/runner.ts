import PQueue from 'p-queue';
import { backoffDelay } from './backoff.ts';
import type { Budget } from './budget.ts';
import { BudgetRegistry } from './budget-local.ts';
import { type Coordinator, LocalCoordinator } from './coordinator.ts';
import type { Logger } from './log.ts';
import { NO_METRICS, type StreamMetrics } from './metrics.ts';
import type { AuditRecord } from './record.ts';
import { RETRY_DEFAULTS } from './retry-defaults.ts';
import { type DeliveryReport, type Source, type Stream, type StreamContext, StreamConfigError, type StreamHealth, type StreamProgress } from './source.ts';
import { type Fence, FencedError, type StateStore } from './state-store.ts';
import { formatDuration, isAbortError, sleep } from './time.ts';

/** 'elsewhere': another replica holds the stream's lease (or none has taken it yet). */
export type StreamPhase = 'running' | 'restarting' | 'stopped-config-error' | 'stopped' | 'elsewhere';

export interface StreamStatus {
  id: string;
  phase: StreamPhase;
  lastError?: string;
  hint?: string;
  exported: number;
  rejected: number;
}

/** Where delivered records go (`export/sink.ts`): resolves once the endpoint answered for every one. */
export interface RecordSink {
  send(streamId: string, resource: Record<string, string>, records: AuditRecord[], signal: AbortSignal): Promise<DeliveryReport>;
}

/** Where input that cannot be mapped or fetched is kept, with the reason (`export/dead-letter.ts`). */
export interface SetAsideFile {
  readonly path: string;
  write(streamId: string, reason: string, raw: unknown[], options: { setAside: boolean }): Promise<void>;
}

/** A stream's completeness ledger (`telemetry/completeness.ts`): counted while it runs, stored beside its commits. */
export interface ProgressRecorder extends StreamProgress {
  /** Starts from what is stored (another replica may have moved it on). */
  load(): Promise<void>;
  /** Writes what was counted; never throws. */
  persist(): Promise<void>;
}

export interface RunnerOptions {
  sources: Source[];
  store: StateStore;
  sink: RecordSink;
  deadLetter: SetAsideFile;
  log: Logger;
  /** Each stream's counters and measurements. Default: none (the daemon passes telemetry's). */
  metrics?: (streamId: string, kind: string) => StreamMetrics;
  /** Each stream's completeness ledger. Default: counted nowhere (the daemon passes telemetry's). */
  progress?: (streamId: string, log: Logger) => ProgressRecorder;
  /** Blobs/pages held in memory at once across all streams. */
  fetchSlots: number;
  /** Records per delivery for sources that stream their input (export.maxBatchRecords). */
  batchRecords: number;
  now?: () => number;
  /**
   * Which streams run in this process, and the fence their commits carry. Default: all of them
   * (`LocalCoordinator`, the embedded store); with postgres, the streams this replica leases.
   */
  coordinator?: Coordinator;
  /** Request budgets by key. Default: this process's `BudgetRegistry`; replicas share a postgres one. */
  budgets?: { get(key: string, requestsPerMinute: number): Budget };
}

const UNCOUNTED: ProgressRecorder = { count: () => undefined, load: async () => undefined, persist: async () => undefined };

/**
 * The scheduler: runs every stream of every source side by side, each in a supervised loop.
 * It knows sources only through `Source`/`Stream`; budgets, state, delivery and memory bounds are
 * handed to streams through their context.
 */
export class Runner {
  readonly #options: RunnerOptions;
  readonly #budgets: { get(key: string, requestsPerMinute: number): Budget };
  /** Every budget handed to a stream here, by key (for gauges), from whichever registry is in use. */
  readonly #budgetsInUse = new Map<string, Budget>();
  readonly #slots: PQueue;
  readonly #abort = new AbortController();
  /** Aborts deliveries still running when a stop reaches its deadline (a stop alone lets them finish). */
  readonly #flushDeadline = new AbortController();
  readonly #status = new Map<string, StreamStatus>();
  /** Per stream: its completeness ledger, and the stream itself for `health()` (once it ran here). */
  readonly #progress = new Map<string, ProgressRecorder>();
  readonly #ran = new Map<string, { kind: string; stream: Stream }>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #now: () => number;
  readonly #coordinator: Coordinator;
  /** Every configured stream, whether it runs here or not. */
  readonly #streams = new Map<string, { kind: string; stream: Stream }>();
  /** Streams running here: each loop has its own abort, for when its lease moves to another replica. */
  readonly #running = new Map<string, { abort: AbortController; task: Promise<void> }>();

  constructor(options: RunnerOptions) {
    this.#options = options;
    this.#coordinator = options.coordinator ?? new LocalCoordinator();
    this.#budgets = options.budgets ?? new BudgetRegistry();
    this.#slots = new PQueue({ concurrency: options.fetchSlots });
    this.#now = options.now ?? Date.now;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** The request budgets streams run under here (this process's, or the ones shared with replicas). */
  requestBudgets(): Budget[] {
    return [...this.#budgetsInUse.values()];
  }

  start(): void {
    const seen = new Set<string>();
    for (const source of this.#options.sources) {
      for (const stream of source.streams()) {
        if (seen.has(stream.id)) throw new Error(`two streams share the id ${stream.id}: check the config for duplicate tenants or customers`);
        seen.add(stream.id);
        this.#status.set(stream.id, { id: stream.id, phase: 'elsewhere', exported: 0, rejected: 0 });
        this.#streams.set(stream.id, { kind: source.kind, stream });
      }
    }
    // The coordinator starts the streams this process holds (all of them with the local one, at
    // once) and stops any whose lease moves to another replica.
    this.#coordinator.start([...seen], { acquired: (id, fence) => this.#launch(id, fence), stop: (id) => this.#halt(id) });
    this.#options.log.info({ streams: seen.size, held: this.#coordinator.held().length }, 'started');
  }

  /** Starts the loop of a stream this replica now holds (after its previous loop, if any, ended). */
  #launch(id: string, fence: Fence | undefined): void {
    const entry = this.#streams.get(id);
    if (!entry || this.signal.aborted) return;
    const previous = this.#running.get(id);
    const abort = new AbortController();
    const task: Promise<void> = (previous?.task ?? Promise.resolve())
      .then(() => this.#supervise(entry.kind, entry.stream, fence, AbortSignal.any([this.signal, abort.signal])))
      .finally(() => {
        this.#tasks.delete(task);
        if (this.#running.get(id)?.task === task) this.#running.delete(id);
      });
    this.#running.set(id, { abort, task });
    this.#tasks.add(task);
  }

  /** Stops one stream's loop here (its lease is lost or handed over); resolves once it ended. */
  async #halt(id: string): Promise<void> {
    const running = this.#running.get(id);
    if (!running) return;
    running.abort.abort();
    await running.task;
  }

  status(): StreamStatus[] {
    return [...this.#status.values()];
  }

  /** What each stream run here says about itself (`{}` without `health()`), for gauges. */
  health(): { id: string; kind: string; health: StreamHealth }[] {
    return [...this.#ran].map(([id, { kind, stream }]) => ({ id, kind, health: stream.health?.() ?? {} }));
  }

  #recorder(id: string, log: Logger): ProgressRecorder {
    let recorder = this.#progress.get(id);
    if (!recorder) {
      recorder = this.#options.progress?.(id, log) ?? UNCOUNTED;
      this.#progress.set(id, recorder);
    }
    return recorder;
  }

  /** Stops fetching, lets in-flight deliveries finish until `deadlineMs`, then returns. State is never left torn. */
  async stop(deadlineMs: number): Promise<boolean> {
    this.#abort.abort();
    const all = this.done().then(() => true);
    // Cancelled once every stream ended, so a clean stop does not keep the process up until the deadline.
    const deadline = new AbortController();
    const timedOut = sleep(deadlineMs, deadline.signal).then(() => false);
    const finished = await Promise.race([all, timedOut]);
    deadline.abort();
    if (!finished) this.#flushDeadline.abort();
    await Promise.all([...this.#progress.values()].map((p) => p.persist()));
    // Hands leases back so other replicas take the streams over now rather than after the TTL.
    await this.#coordinator.stop();
    for (const source of this.#options.sources) await source.close?.();
    return finished;
  }

  /** Resolves when every stream has ended (aborted or stopped on a config error). */
  async done(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  /** `signal` aborts when the daemon stops or this replica loses the stream; `fence` goes with every commit. */
  async #supervise(kind: string, stream: Stream, fence: Fence | undefined, signal: AbortSignal): Promise<void> {
    const log = this.#options.log.child({ stream: stream.id });
    const status = this.#status.get(stream.id)!;
    // The ledger may have moved on while the stream ran elsewhere: start from what is stored.
    await this.#recorder(stream.id, log).load();
    const ctx = this.#context(kind, stream, log, status, fence, signal);
    for (let attempt = 0; !signal.aborted; attempt++) {
      const startedAt = this.#now();
      try {
        status.phase = 'running';
        await stream.run(ctx);
        if (signal.aborted) break;
        attempt = 0;
      } catch (err) {
        if (err instanceof FencedError || (err as Error)?.cause instanceof FencedError) {
          // Another replica took the stream over (this one was paused or cut off past its lease):
          // the store refused the commit, so nothing moved; stop here without retrying.
          log.warn({ err: (err as Error).message }, 'commit refused: the stream belongs to another replica now; stopping it here');
          status.phase = 'elsewhere';
          this.#coordinator.lost(stream.id);
          return;
        }
        if (signal.aborted && isAbortError(err)) break;
        if (err instanceof StreamConfigError) {
          status.phase = 'stopped-config-error';
          status.lastError = err.message;
          status.hint = err.hint;
          log.error({ err: err.message, fix: err.hint }, 'stream stopped: configuration problem (other streams go on)');
          return;
        }
        status.phase = 'restarting';
        status.lastError = (err as Error).message;
        // A stream that ran for a while since its last failure starts the backoff over: the count is
        // of failures in a row, not of every failure since the daemon started.
        if (this.#now() - startedAt >= RETRY_DEFAULTS.streamRestart.maxMs) attempt = 0;
        const delay = backoffDelay(RETRY_DEFAULTS.streamRestart, attempt);
        log.error({ err, restartIn: formatDuration(delay) }, 'stream failed; restarting from its last committed state');
        await sleep(delay, signal);
      }
    }
    status.phase = this.signal.aborted ? 'stopped' : 'elsewhere';
  }

  #budget(stream: Stream): Budget {
    const budget = this.#budgets.get(stream.budgetKey, stream.requestsPerMinute);
    this.#budgetsInUse.set(budget.key, budget);
    return budget;
  }

  #context(kind: string, stream: Stream, log: Logger, status: StreamStatus, fence: Fence | undefined, signal: AbortSignal): StreamContext {
    const { store, sink } = this.#options;
    const metrics = this.#options.metrics?.(stream.id, kind) ?? NO_METRICS;
    const progress = this.#recorder(stream.id, log);
    this.#ran.set(stream.id, { kind, stream });
    // A stop ends fetching at once but lets deliveries of what was fetched finish (until the stop's
    // deadline); losing the stream to another replica ends them at once.
    const lost = new AbortController();
    signal.addEventListener('abort', () => !this.signal.aborted && lost.abort(), { once: true });
    const deliverySignal = AbortSignal.any([lost.signal, this.#flushDeadline.signal]);
    return {
      signal,
      deliverySignal,
      budget: this.#budget(stream),
      state: {
        load: () => store.get(stream.id),
        // The store refuses (FencedError) a commit whose lease has passed to another replica.
        commit: async (value) => {
          // The completeness ledger is written beside each commit, in parallel (it never throws).
          const ledger = progress.persist();
          await store.put(stream.id, value, fence);
          await ledger;
        },
      },
      deliver: async (records: AuditRecord[]) => {
        if (records.length === 0) return { accepted: 0, rejected: 0 };
        const report = await sink.send(stream.id, stream.resource, records, deliverySignal);
        status.exported += report.accepted;
        status.rejected += report.rejected;
        metrics.recordsExported(report.accepted);
        if (report.rejected) metrics.recordsRejected(report.rejected);
        const now = this.#now();
        for (const r of records) metrics.eventLagMs(now - r.timeUnixMs);
        return report;
      },
      // Not `{ signal }`: p-queue would then free the slot of a running task on abort while the task
      // still runs (delivering what it fetched). A task that gets its slot after an abort ends at once.
      withFetchSlot: (fn) =>
        this.#slots.add(() => {
          signal.throwIfAborted();
          return fn();
        }) as Promise<Awaited<ReturnType<typeof fn>>>,
      batchRecords: this.#options.batchRecords,
      setAside: async (reason, raw) => {
        await this.#options.deadLetter.write(stream.id, reason, raw, { setAside: true });
        metrics.recordsSetAside(raw.length);
        log.error({ reason, count: raw.length, deadLetter: this.#options.deadLetter.path }, 'input set aside in the dead-letter file');
      },
      log,
      metrics,
      progress,
      now: this.#now,
      sleep: (ms) => sleep(ms, signal),
    };
  }
}
