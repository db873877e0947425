import { BUDGET_TRANSIT_MARGIN_MS, type Budget, ThrottleBackoff } from '../core/budget.ts';
import { RecentStarts } from '../core/recent-starts.ts';
import type { PostgresStateStore } from '../state/postgres-store.ts';
import type { Logger } from '../core/log.ts';

const MINUTE_MS = 60_000;

export interface SharedBudgetSettings {
  /** The budget's period: `requestsPerMinute` tokens per `windowMs` (tests shrink it). Default 1 min. */
  windowMs?: number;
  /**
   * A granted token must start its request within this long of the grant request being sent, or it
   * is dropped. The database counts grants over `windowMs + tokenValidityMs` (plus the transit margin
   * for the real window), so request starts stay within the limit in every `windowMs`, across all
   * replicas. Default 1 s.
   */
  tokenValidityMs?: number;
  /** Most tokens asked for at once. Default: about half a second of the rate, at least 1, at most 50. */
  maxBatch?: number;
  now?: () => number;
}

interface Waiter {
  priority: number;
  run: () => void;
  /** Set when the waiter's signal aborted before it got a token. */
  gone: boolean;
}

/**
 * One tenant's request budget held across every replica: a sliding-window count in PostgreSQL
 * (`take_tokens`), from which each replica leases small batches of tokens, sized by how many of its
 * requests are waiting, so the database sees one call per batch rather than one per request.
 * `holdFor` is written to the budget row: one replica being throttled holds them all.
 * If the database cannot be reached, requests wait (and the pump retries) rather than overrun.
 */
export class SharedBudget implements Budget {
  readonly key: string;
  readonly requestsPerMinute: number;
  readonly #store: PostgresStateStore;
  readonly #log: Logger;
  readonly #windowMs: number;
  readonly #validityMs: number;
  readonly #maxBatch: number;
  readonly #now: () => number;
  readonly #waiting: Waiter[] = [];
  readonly #starts: RecentStarts;
  #tokens = 0;
  #tokensExpireAt = 0;
  /** This replica's count of consecutive throttling answers; the hold itself is shared through the database. */
  readonly throttle = new ThrottleBackoff();
  #holdUntil = 0;
  #pumping = false;

  constructor(store: PostgresStateStore, key: string, requestsPerMinute: number, log: Logger, settings: SharedBudgetSettings = {}) {
    this.#store = store;
    this.key = key;
    this.requestsPerMinute = requestsPerMinute;
    this.#log = log;
    this.#windowMs = settings.windowMs ?? MINUTE_MS + BUDGET_TRANSIT_MARGIN_MS;
    this.#validityMs = settings.tokenValidityMs ?? 1000;
    this.#maxBatch = settings.maxBatch ?? Math.min(50, Math.max(1, Math.floor((requestsPerMinute * 500) / this.#windowMs)));
    this.#now = settings.now ?? Date.now;
    this.#starts = new RecentStarts(this.#now, requestsPerMinute * 2);
  }

  schedule<T>(fn: () => Promise<T>, options: { priority?: number; signal?: AbortSignal } = {}): Promise<T> {
    const { signal } = options;
    signal?.throwIfAborted();
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        waiter.gone = true;
        const i = this.#waiting.indexOf(waiter);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        priority: options.priority ?? 0,
        gone: false,
        run: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#starts.note();
          fn().then(resolve, reject);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // Higher priority first; equal priorities in arrival order.
      const at = this.#waiting.findIndex((w) => w.priority < waiter.priority);
      if (at < 0) this.#waiting.push(waiter);
      else this.#waiting.splice(at, 0, waiter);
      this.#pump();
    });
  }

  holdFor(ms: number): void {
    this.#holdUntil = Math.max(this.#holdUntil, this.#now() + ms);
    this.#tokens = 0; // tokens in hand would start requests into the throttle
    const budgets = this.#store.table('budgets');
    this.#store.pool
      .query(
        `INSERT INTO ${budgets} AS b (key, "limit", hold_until) VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
         ON CONFLICT (key) DO UPDATE SET hold_until = greatest(b.hold_until, excluded.hold_until)`,
        [this.key, this.requestsPerMinute, ms],
      )
      .catch((err: unknown) => this.#log.warn({ budget: this.key, err: (err as Error).message }, 'could not share a throttling hold with other replicas'));
  }

  usedLastMinute(): number {
    return this.#starts.count();
  }

  /** How long requests are held for throttling (as last known here), 0 when not held. */
  heldForMs(): number {
    return Math.max(0, this.#holdUntil - this.#now());
  }

  #pump(): void {
    // A running pump picks new waiters up on its next turn (within a second at most).
    if (this.#pumping) return;
    this.#pumping = true;
    void this.#loop().finally(() => {
      this.#pumping = false;
      if (this.#waiting.length > 0) this.#pump();
    });
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (this.#waiting.length > 0) {
      this.#useTokens();
      if (this.#waiting.length === 0) return;
      const held = this.#holdUntil - this.#now();
      if (held > 0) {
        await this.#pause(held);
        continue;
      }
      const sentAt = this.#now();
      const want = Math.min(this.#maxBatch, Math.max(this.#waiting.length, 1));
      let granted = 0;
      let retryMs = 0;
      try {
        const { rows } = await this.#store.pool.query<{ granted: number; retry_ms: number }>(
          `SELECT granted, retry_ms FROM ${this.#store.table('take_tokens')}($1, $2, $3, $4)`,
          [this.key, this.requestsPerMinute, want, this.#windowMs + this.#validityMs],
        );
        granted = rows[0]?.granted ?? 0;
        retryMs = rows[0]?.retry_ms ?? 1000;
        failures = 0;
      } catch (err) {
        if (failures++ === 0) this.#log.warn({ budget: this.key, err: (err as Error).message }, 'shared request budget unreachable; requests wait');
        await this.#pause(Math.min(5000, 200 * 2 ** Math.min(failures, 5)));
        continue;
      }
      if (granted > 0) {
        this.#tokens = granted;
        this.#tokensExpireAt = sentAt + this.#validityMs;
        continue;
      }
      // No room (or held by another replica): wait for room, but look again soon so a hold or a
      // higher-priority arrival is noticed.
      await this.#pause(Math.min(retryMs, 1000));
    }
  }

  #useTokens(): void {
    if (this.#now() >= this.#tokensExpireAt) this.#tokens = 0;
    while (this.#tokens > 0 && this.#waiting.length > 0) {
      const waiter = this.#waiting.shift() as Waiter;
      if (waiter.gone) continue;
      this.#tokens--;
      waiter.run();
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** One shared budget per key, created on first use (what the runner asks for each stream). */
export class SharedBudgetRegistry {
  readonly #budgets = new Map<string, SharedBudget>();
  readonly #store: PostgresStateStore;
  readonly #log: Logger;
  readonly #settings: SharedBudgetSettings;
  constructor(store: PostgresStateStore, log: Logger, settings: SharedBudgetSettings = {}) {
    this.#store = store;
    this.#log = log;
    this.#settings = settings;
  }
  get(key: string, requestsPerMinute: number): SharedBudget {
    let budget = this.#budgets.get(key);
    if (!budget) {
      budget = new SharedBudget(this.#store, key, requestsPerMinute, this.#log, this.#settings);
      this.#budgets.set(key, budget);
    }
    return budget;
  }
  all(): SharedBudget[] {
    return [...this.#budgets.values()];
  }
}
