import PQueue from 'p-queue';
import { backoffDelay } from './backoff.ts';
import type { BudgetSource } from './budget.ts';
import { BudgetRegistry } from './budget-local.ts';
import { type Coordinator, LocalCoordinator } from './coordinator.ts';
import type { Logger } from './log.ts';
import { NO_METRICS, type StreamMetrics } from './metrics.ts';
import type { AuditRecord } from './record.ts';
import { RETRY_DEFAULTS } from './retry-defaults.ts';
import { type DeliveryReport, type Source, type Stream, type StreamContext, StreamConfigError, type StreamHealth, type StreamProgress } from './source.ts';
import { type Fence, FencedError, type StateStore } from './state-store.ts';
import { formatDuration, isAbortError, sleep } from './time.ts';

/**
 * 'config-error': stopped by a problem only the operator can fix, tried again on a backoff (the
 * replica keeps its lease: it is the one responsible, and says so). 'elsewhere': another replica
 * holds the stream's lease (or none has taken it yet).
 */
export type StreamPhase = 'running' | 'restarting' | 'config-error' | 'stopped' | 'elsewhere';

export interface StreamStatus {
  id: string;
  phase: StreamPhase;
  lastError?: string;
  hint?: string;
  exported: number;
  rejected: number;
  /** This replica holds the stream's lease (always, with the embedded store). */
  leased: boolean;
  /** A loop of the stream runs in this process (possibly waiting for a retry, or for the previous loop to end). */
  running: boolean;
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
  /** Starts from what is stored (another replica may have moved it on); later writes carry `fence`. */
  load(fence?: Fence): Promise<void>;
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
  budgets?: BudgetSource;
}

const UNCOUNTED: ProgressRecorder = { count: () => undefined, load: async () => undefined, persist: async () => undefined };

/**
 * The scheduler: runs every stream of every source side by side, each in a supervised loop.
 * It knows sources only through `Source`/`Stream`; budgets, state, delivery and memory bounds are
 * handed to streams through their context.
 */
export class Runner {
  readonly #options: RunnerOptions;
  readonly #budgets: BudgetSource;
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

  /** The budgets the streams draw from (with postgres, the shared ones): what the budget gauges read. */
  budgets(): BudgetSource {
    return this.#budgets;
  }

  /** This replica's name in leases ('local' with the embedded store). */
  get replicaId(): string {
    return this.#coordinator.replicaId;
  }

  start(): void {
    const seen = new Set<string>();
    for (const source of this.#options.sources) {
      for (const stream of source.streams()) {
        if (seen.has(stream.id)) throw new Error(`two streams share the id ${stream.id}: check the config for duplicate tenants or customers`);
        seen.add(stream.id);
        this.#status.set(stream.id, { id: stream.id, phase: 'elsewhere', exported: 0, rejected: 0, leased: false, running: false });
        this.#streams.set(stream.id, { kind: source.kind, stream });
      }
    }
    // The coordinator starts the streams this process holds (all of them with the local one, at
    // once) and stops any whose lease moves to another replica.
    this.#coordinator.start([...seen], {
      acquired: (id, fence) => this.#launch(id, fence),
      stop: (id) => this.#halt(id),
      // While the daemon stops, loops end before the coordinator hands their leases back: 'stopping',
      // not an orphan.
      phase: (id) => (this.#running.has(id) ? this.#status.get(id)?.phase : this.signal.aborted ? 'stopping' : undefined),
    });
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
    const held = new Set(this.#coordinator.held());
    return [...this.#status.values()].map((s) => ({ ...s, leased: held.has(s.id), running: this.#running.has(s.id) }));
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

  /** Resolves when every stream has ended (the daemon stopped, or the streams moved to other replicas). */
  async done(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  /** `signal` aborts when the daemon stops or this replica loses the stream; `fence` goes with every commit. */
  async #supervise(kind: string, stream: Stream, fence: Fence | undefined, signal: AbortSignal): Promise<void> {
    const log = this.#options.log.child({ stream: stream.id });
    const status = this.#status.get(stream.id)!;
    // The ledger may have moved on while the stream ran elsewhere: start from what is stored; it is
    // written under this run's lease like the stream's own state.
    await this.#recorder(stream.id, log).load(fence);
    const ctx = this.#context(kind, stream, log, status, fence, signal);
    let failures = 0;
    let configFailures = 0;
    while (!signal.aborted) {
      const startedAt = this.#now();
      try {
        status.phase = 'running';
        await stream.run(ctx);
        if (signal.aborted) break;
        failures = 0;
        configFailures = 0;
      } catch (err) {
        if (err instanceof FencedError || (err as Error)?.cause instanceof FencedError) {
          // Another replica took the stream over (this one was paused or cut off past its lease):
          // the store refused the commit, so nothing moved; stop here without retrying.
          log.warn({ err: (err as Error).message }, 'commit refused: the stream belongs to another replica now; stopping it here');
          status.phase = 'elsewhere';
          this.#coordinator.lost(stream.id, fence);
          return;
        }
        // Stopped (the daemon stops, or the stream moved to another replica): whatever the loop threw
        // on its way out is the abort's doing (client libraries wrap it: gaxios throws a plain Error
        // "This operation was aborted"), not a failure to report and restart from.
        if (signal.aborted) {
          if (!isAbortError(err)) log.debug({ err: (err as Error).message }, 'stream loop ended by the stop');
          break;
        }
        // Streams whose run() never returns (it loops until stopped) would otherwise carry their
        // failure counts for ever: one failure a day later would wait the full 5 minutes.
        if (this.#now() - startedAt >= RETRY_DEFAULTS.healthyRunMs) {
          failures = 0;
          configFailures = 0;
        }
        if (err instanceof StreamConfigError) {
          // Tried again on a backoff rather than left stopped: the fix (a rotated secret, a grant
          // that took effect, a transient 400) needs no restart, and with replicas the lease stays
          // with a replica that keeps trying and reports the problem, instead of a lease renewed
          // for a stream nothing runs (every replica has the same config, so none would do better).
          status.phase = 'config-error';
          status.lastError = err.message;
          status.hint = err.hint;
          const delay = backoffDelay(RETRY_DEFAULTS.configRetry, configFailures++);
          log.error({ err: err.message, fix: err.hint, retryIn: formatDuration(delay) }, 'stream stopped by a configuration problem; trying again later (other streams go on)');
          await sleep(delay, signal);
          continue;
        }
        status.phase = 'restarting';
        status.lastError = (err as Error).message;
        const delay = backoffDelay(RETRY_DEFAULTS.streamRestart, failures++);
        log.error({ err, restartIn: formatDuration(delay) }, 'stream failed; restarting from its last committed state');
        await sleep(delay, signal);
      }
    }
    status.phase = this.signal.aborted ? 'stopped' : 'elsewhere';
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
      budget: this.#budgets.get(stream.budgetKey, stream.requestsPerMinute),
      state: {
        load: () => store.get(stream.id),
        // The store refuses (FencedError) a commit whose lease has passed to another replica.
        commit: async (value) => {
          // The completeness ledger is written beside each commit (it never throws), under the same
          // fence: in parallel with the commit, except with a fence, where it follows it. Two writes
          // share-locking the stream's lease row at once (a multixact in postgres) made a two-replica
          // drain take 59 s instead of 43-45 s (bench:replicas).
          if (fence) {
            await store.put(stream.id, value, fence);
            await progress.persist();
            return;
          }
          const ledger = progress.persist();
          await store.put(stream.id, value);
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
