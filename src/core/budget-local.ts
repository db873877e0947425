import PQueue from 'p-queue';
import type { Budget } from './budget.ts';

const MINUTE_MS = 60_000;

/**
 * One process's request budget: a strict sliding window, so no 60-second period ever sees more
 * than `requestsPerMinute` request starts (fixed windows would allow twice that across a boundary).
 */
export class LocalBudget implements Budget {
  readonly key: string;
  readonly requestsPerMinute: number;
  readonly #queue: PQueue;
  readonly #starts: number[] = [];
  #holdUntil = 0;
  #holdTimer: NodeJS.Timeout | undefined;
  readonly #now: () => number;

  constructor(key: string, requestsPerMinute: number, now: () => number = Date.now) {
    this.key = key;
    this.requestsPerMinute = requestsPerMinute;
    this.#now = now;
    this.#queue = new PQueue({ intervalCap: requestsPerMinute, interval: MINUTE_MS, strict: true });
  }

  schedule<T>(fn: () => Promise<T>, options: { priority?: number; signal?: AbortSignal } = {}): Promise<T> {
    return this.#queue.add(
      () => {
        this.#noteStart();
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
    this.#holdTimer.unref();
  }

  usedLastMinute(): number {
    this.#prune();
    return this.#starts.length;
  }

  /** How long requests are held for throttling, 0 when not held. */
  heldForMs(): number {
    return Math.max(0, this.#holdUntil - this.#now());
  }

  #noteStart(): void {
    this.#starts.push(this.#now());
    if (this.#starts.length > this.requestsPerMinute * 2) this.#prune();
  }

  #prune(): void {
    const cutoff = this.#now() - MINUTE_MS;
    let drop = 0;
    while (drop < this.#starts.length && (this.#starts[drop] as number) <= cutoff) drop++;
    if (drop > 0) this.#starts.splice(0, drop);
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
