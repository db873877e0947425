/**
 * Capped exponential backoff with full jitter (AWS architecture blog's "full jitter"):
 * spreads retries of many streams so a throttled API is not hit by a synchronised wave.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  multiplier: number;
}

export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** Math.max(0, attempt));
  // Never below a tenth of the ceiling: a zero delay would just hammer the API again.
  return Math.round(ceiling * (0.1 + 0.9 * random()));
}

/**
 * A Retry-After header: either delta-seconds or an HTTP date. Returns ms, or undefined when absent
 * or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value == null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
