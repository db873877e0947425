/**
 * The one interface through which the core (scheduler, budgets, state, export) knows a source.
 * A source is a factory of streams; a stream is one independently-cursored feed
 * (e.g. a tenant × content type, a customer × application).
 */
import type { AuditRecord } from './record.ts';
import type { Budget } from './budget.ts';
import type { Logger } from './log.ts';
import type { StreamMetrics } from './metrics.ts';

export interface Source {
  /** The source's kind (its registry key): used in stream ids, metrics and logs. */
  readonly kind: string;
  streams(): Stream[];
  /** Release clients, sockets, timers. */
  close?(): Promise<void>;
}

export interface Stream {
  /** Unique and stable across restarts: it keys the stream's state (`<kind>/<tenant>/<content type>`, ...). */
  readonly id: string;
  /** Streams with the same key share one request budget (a tenant, a cloud project). */
  readonly budgetKey: string;
  /** Requests per minute for that budget; the first stream to name a key sets it. */
  readonly requestsPerMinute: number;
  /** OTLP resource attributes of this stream's records (source and tenant identity). */
  readonly resource: Record<string, string>;
  /**
   * Runs until `ctx.signal` aborts. Must only commit state for records whose `ctx.deliver()` resolved.
   * Throwing a `StreamConfigError` stops this stream alone, with its message shown to the operator;
   * any other error is logged and the stream is restarted after a backoff.
   */
  run(ctx: StreamContext): Promise<void>;
  /**
   * What the operator should see about this stream right now (for gauges and `auditrelay status`).
   * Optional: a stream without it still gets the runner's counters.
   */
  health?(): StreamHealth;
}

/** A stream's view of its own completeness and risk; every field optional. */
export interface StreamHealth {
  /** Oldest source time (ms) not yet fully delivered: the stream's true cursor. */
  watermark?: number;
  /** Items (blobs, pages) listed but not yet delivered. */
  pending?: number;
  /** Items not yet fetched that the source deletes before `now + horizonMs`. */
  atRisk?(now: number, horizonMs: number): number;
  /** The source-side subscription is enabled (false: this stream collects nothing). */
  subscribed?: boolean;
  /** Items set aside after repeated failures (still retried, but reported). */
  setAside?: number;
  /** Data known to be lost, newest last. */
  losses?: readonly StreamLoss[];
}

export interface StreamLoss {
  kind: string;
  from: number;
  to: number;
  detail: string;
  at: number;
}

/**
 * The completeness ledger's counters. `atMs` is the source's own time of the item (a blob's
 * creation, a window's start), so an hour's row fills in as late work lands.
 * blobs/pages: listed, fetched, exported, setAside, lost; records: records exported.
 */
export type ProgressKind = 'listed' | 'fetched' | 'exported' | 'setAside' | 'lost' | 'records';

export interface StreamProgress {
  count(kind: ProgressKind, atMs: number, n?: number): void;
}

/** Durable per-stream state: one JSON document, replaced atomically. */
export interface StreamState<T = unknown> {
  load(): Promise<T | undefined>;
  /** Resolves once the document is durable. Rejects with `FencedError` if this replica lost the stream. */
  commit(value: T): Promise<void>;
}

export interface DeliveryReport {
  /** Records the endpoint accepted. */
  accepted: number;
  /** Records the endpoint refused for good (sent to the dead-letter file). */
  rejected: number;
}

export interface StreamContext {
  /** Aborts when the stream must stop starting work (the daemon stops, or the stream moves elsewhere). */
  readonly signal: AbortSignal;
  /**
   * Aborts when work already under way must be abandoned: the stop's deadline passed, or the stream
   * moved to another replica. Between `signal` and this, a source may finish reading and delivering
   * what it has started (a blob whose body is arriving), so a stop does not leave it half-exported.
   */
  readonly deliverySignal: AbortSignal;
  readonly budget: Budget;
  readonly state: StreamState;
  /**
   * Hands records to the export endpoint and resolves only once the endpoint acknowledged every one
   * of them (or refused some for good, which the report counts). Retries transient failures itself
   * with capped backoff for as long as it takes; rejects only when `signal` aborts.
   */
  deliver(records: AuditRecord[]): Promise<DeliveryReport>;
  /**
   * Runs `fn` while holding one of the daemon's fetch slots. Hold a slot from the moment a blob or page
   * is requested until its records were delivered: the number of slots bounds memory across all streams.
   */
  withFetchSlot<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * How many records to hand to `deliver` at a time (one export request's worth). A source reading a
   * large body record by record delivers in batches of this size, so memory stays bounded whatever
   * the size of a blob or page.
   */
  readonly batchRecords: number;
  /**
   * Keeps raw input that cannot be mapped or fetched (a malformed record, a blob that keeps failing)
   * in the dead-letter file with the reason, so nothing is dropped silently.
   */
  setAside(reason: string, raw: unknown[]): Promise<void>;
  readonly log: Logger;
  readonly metrics: StreamMetrics;
  /** Per-hour counts for the completeness ledger (`auditrelay status`); cheap, never blocks. */
  readonly progress: StreamProgress;
  /** Current time in ms; sources never call Date.now() directly so tests can move the clock. */
  now(): number;
  /** Abortable sleep: resolves early (without throwing) when the signal aborts. */
  sleep(ms: number): Promise<void>;
}

/** A problem only the operator can fix (bad credentials, missing permission): stops this stream only. */
export class StreamConfigError extends Error {
  override readonly name = 'StreamConfigError';
  /** What the operator should do about it. */
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}
