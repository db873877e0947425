import { RETRY_DEFAULTS } from './retry-defaults.ts';
import { backoffDelay } from './backoff.ts';

/**
 * The API counts requests when they reach it, we when they start: a request that starts late in
 * one minute and travels fast can land in the same 60 s as one that started 60 s earlier and
 * travelled slowly (a new TLS connection, a busy event loop). Each budget therefore keeps its
 * `requestsPerMinute` within every 60 s plus this margin, about 1.7 % below the nominal rate, so the
 * count the API keeps never passes it (measured: 2,004 in a minute at the emulator
 * without it, with the daemon's own count at 2,000).
 */
export const BUDGET_TRANSIT_MARGIN_MS = 1_000;

/**
 * A request budget shared by every stream of one tenant (or cloud project).
 * Implementations: `LocalBudget` (p-queue, one process); a shared-store one for replicas.
 */
export interface Budget {
  readonly key: string;
  readonly requestsPerMinute: number;
  /** Runs `fn` when the budget allows one more request. Higher priority runs first. */
  schedule<T>(fn: () => Promise<T>, options?: { priority?: number; signal?: AbortSignal }): Promise<T>;
  /** Hold every request of this budget for `ms`. */
  holdFor(ms: number): void;
  /** Consecutive throttling answers across all streams of this budget, and the hold the next one gets. */
  readonly throttle: ThrottleBackoff;
  /** Requests started in the last minute by this process (for metrics and benchmarks). */
  usedLastMinute(): number;
  /** How long requests are held for throttling (as known here), 0 when not held. */
  heldForMs(): number;
}

/** Budgets by key, created on first use: the process's own, or (replicas) the ones shared through the database. */
export interface BudgetSource {
  get(key: string, requestsPerMinute: number): Budget;
  all(): Budget[];
}

/**
 * Throttling is per budget (a tenant, a Cloud project), so the backoff is too: consecutive throttling
 * answers across all of the budget's streams grow the hold (`RETRY_DEFAULTS.throttleBackoff`),
 * and any other answer resets it.
 */
export class ThrottleBackoff {
  #consecutive = 0;
  /** The hold for one more throttling answer. */
  next(retryAfterMs: number | undefined, random: () => number = Math.random): { holdMs: number; consecutive: number } {
    const holdMs = Math.max(retryAfterMs ?? 0, backoffDelay(RETRY_DEFAULTS.throttleBackoff, this.#consecutive, random));
    this.#consecutive++;
    return { holdMs, consecutive: this.#consecutive };
  }
  reset(): void {
    this.#consecutive = 0;
  }
}
