import PQueue from 'p-queue';
import { BUDGET_TRANSIT_MARGIN_MS, type Budget, ThrottleBackoff } from './budget.ts';
import { RecentStarts } from './recent-starts.ts';

const MINUTE_MS = 60_000;

/**
 * One process's request budget: a strict sliding window, so no 60-second period (plus the transit
 * margin) ever sees more than `requestsPerMinute` request starts (fixed windows would allow twice
 * that across a boundary).
 */
export class LocalBudget implements Budget {
  readonly key: string;
  readonly requestsPerMinute: number;
  readonly #queue: PQueue;
  readonly #starts: RecentStarts;
  readonly throttle = new ThrottleBackoff();
  #holdUntil = 0;
  #holdTimer: NodeJS.Timeout | undefined;
  readonly #now: () => number;

  constructor(key: string, requestsPerMinute: number, now: () => number = Date.now) {
    this.key = key;
    this.requestsPerMinute = requestsPerMinute;
    this.#now = now;
    this.#starts = new RecentStarts(now, requestsPerMinute * 2);
    this.#queue = new PQueue({ intervalCap: requestsPerMinute, interval: MINUTE_MS + BUDGET_TRANSIT_MARGIN_MS, strict: true });
  }

  schedule<T>(fn: () => Promise<T>, options: { priority?: number; signal?: AbortSignal } = {}): Promise<T> {
    return this.#queue.add(
      () => {
        this.#starts.note();
        return fn();
      },
      { priority: options.priority ?? 0, signal: options.signal },
    ) as Promise<T>;
  }

  holdFor(ms: number): void {
    const until = this.#now() + ms;
    if (until <= this.#holdUntil) return;
    this.#holdUntil = until;
    this.#queue.pause();
    clearTimeout(this.#holdTimer);
    this.#holdTimer = setTimeout(() => {
      this.#holdTimer = undefined;
      this.#queue.start();
    }, ms);
    // Not unref'd: while the queue is paused this timer may be the only thing that will ever wake
    // the held requests; an unref'd timer let the process exit (code 13) mid-run when nothing else
    // (e.g. the telemetry server) kept the event loop alive.
  }

  usedLastMinute(): number {
    return this.#starts.count();
  }

  /** How long requests are held for throttling, 0 when not held. */
  heldForMs(): number {
    return Math.max(0, this.#holdUntil - this.#now());
  }
}

/** One budget per key, created on first use. */
export class BudgetRegistry {
  readonly #budgets = new Map<string, LocalBudget>();
  get(key: string, requestsPerMinute: number): LocalBudget {
    let budget = this.#budgets.get(key);
    if (!budget) {
      budget = new LocalBudget(key, requestsPerMinute);
      this.#budgets.set(key, budget);
    }
    return budget;
  }
  all(): LocalBudget[] {
    return [...this.#budgets.values()];
  }
}
