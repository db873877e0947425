/**
 * A request budget shared by every stream of one tenant (or Google Cloud project).
 * Implementations: `LocalBudget` (p-queue, one process); a shared-store one for replicas.
 */
export interface Budget {
  readonly key: string;
  readonly requestsPerMinute: number;
  /** Runs `fn` when the budget allows one more request. Higher priority runs first. */
  schedule<T>(fn: () => Promise<T>, options?: { priority?: number; signal?: AbortSignal }): Promise<T>;
  /** The API said we are throttled: hold every request of this budget for `ms`. */
  holdFor(ms: number): void;
  /** Requests started in the last minute (for metrics and benchmarks). */
  usedLastMinute(): number;
}
