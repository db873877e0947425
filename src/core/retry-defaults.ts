import type { BackoffPolicy } from './backoff.ts';

/**
 * Every retry constant of the core, once, with why: the API-call policy (`api-call/call.ts`) and the
 * runner's stream restarts. Backoffs are capped exponential with full jitter (`backoff.ts`): delay n
 * is uniform in [0.1, 1] × min(maxMs, initialMs × multiplier^n). What the config file sets (export
 * retries, how many attempts before an item is set aside) is in the config sections.
 */
export const RETRY_DEFAULTS = {
  /**
   * The hold after consecutive throttling answers of one budget (a tenant, a Cloud project), across
   * all of its streams; any other answer resets the count. A lone throttle costs about a second, a
   * storm backs the whole budget off quickly; both APIs count their quota per minute, so a hold of
   * more than two minutes would only add lag. Never shorter than a Retry-After the API gives.
   */
  throttleBackoff: { initialMs: 1_000, maxMs: 2 * 60_000, multiplier: 2 } satisfies BackoffPolicy,
  /** Between attempts of one call that failed transiently (5xx, 408, network); never shorter than a Retry-After. */
  transientBackoff: { initialMs: 1_000, maxMs: 60_000, multiplier: 2 } satisfies BackoffPolicy,
  /** Attempts of one call before a transient failure goes back to the caller (a listing waits for the next poll, a blob is retried later). */
  transientAttempts: 5,
  /** Fresh credentials tried after a 401 before the answer counts as what the source says a persistent 401 means. */
  authRenewals: 2,
  /** Between restarts of a stream that failed (an error that is not the operator's to fix): from its last committed state. */
  streamRestart: { initialMs: 1_000, maxMs: 5 * 60_000, multiplier: 2 } satisfies BackoffPolicy,
  /** A stream stopped by a configuration problem is tried again up to every 5 minutes (a rotated secret, a grant that took effect). */
  configRetry: { initialMs: 10_000, maxMs: 5 * 60_000, multiplier: 2 } satisfies BackoffPolicy,
  /** A run that lasted this long before failing was healthy: the next failure backs off from the start again. */
  healthyRunMs: 60_000,
  /**
   * When a listed item (a content blob) whose fetch failed is tried again, kept in the stream's
   * durable state: it waits while other items go on, so a bad one never stalls the stream.
   */
  itemRetry: { initialMs: 5_000, maxMs: 10 * 60_000, multiplier: 3 } satisfies BackoffPolicy,
  /** An item that failed every attempt is set aside (reported), and still tried this often until it expires. */
  setAsideRetryMs: 3_600_000,
} as const;
