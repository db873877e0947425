import { z } from 'zod';
import type { BrokenBody } from '../../shared/emulator/https.ts';
import { ApiError, apiErrors } from './errors.ts';
import { Random } from '../../shared/emulator/random.ts';

/**
 * Transient faults the API shows in the field, each with its own rate (0..1, the share of API calls
 * it hits). Switchable at start (`faults: true` turns on `REALISTIC_RATES`) and at run time with
 * `POST /_emulator/faults` (JSON: `{"rates": {"af429As403": 0.5}, "slowMs": 2000}`, merged; or
 * `{"all": 0}` to set every rate at once).
 */
export const FAULT_KINDS = [
  'af429As403', // 403 {"error":{"code":"AF429"}}, no Retry-After (what the field sees)
  'af429As429', // 429 AF429 without Retry-After
  'af429As429RetryAfter', // 429 AF429 with Retry-After: 1
  'tokenExpired401', // 401 as if the bearer token had expired
  'internal500', // 500 AF50000
  'unavailable503', // 503: backend down
  'timeout408', // 408: backend timeout
  'slow', // the answer comes `slowMs` late
  // Blob GETs only (a share of those): 200 with a broken body, as gateways and proxies serve them.
  'malformedBlob200', // JSON with a stray token in the middle
  'truncatedBlob200', // the first half of the JSON array
  'htmlBlob200', // an HTML error page
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSettings {
  rates: Record<FaultKind, number>;
  slowMs: number;
}

/** A few percent of calls: enough to exercise every retry path in a demo minute. */
export const REALISTIC_RATES: Record<FaultKind, number> = {
  af429As403: 0.02,
  af429As429: 0.01,
  af429As429RetryAfter: 0.01,
  tokenExpired401: 0.01,
  internal500: 0.01,
  unavailable503: 0.01,
  timeout408: 0.005,
  slow: 0.02,
  malformedBlob200: 0.005,
  truncatedBlob200: 0.005,
  htmlBlob200: 0.005,
};

const rate = z.number().min(0).max(1);
export const faultUpdateSchema = z
  .object({
    all: rate.optional(),
    rates: z.object(Object.fromEntries(FAULT_KINDS.map((k) => [k, rate.optional()])) as Record<FaultKind, z.ZodOptional<z.ZodNumber>>).strict().optional(),
    slowMs: z.number().int().min(0).max(120_000).optional(),
  })
  .strict();
export type FaultUpdate = z.infer<typeof faultUpdateSchema>;

export function initialFaults(enabled: boolean, overrides: FaultUpdate = {}): FaultSettings {
  const base: FaultSettings = { rates: Object.fromEntries(FAULT_KINDS.map((k) => [k, enabled ? REALISTIC_RATES[k] : 0])) as Record<FaultKind, number>, slowMs: 1500 };
  return applyFaultUpdate(base, overrides);
}

export function applyFaultUpdate(current: FaultSettings, update: FaultUpdate): FaultSettings {
  const rates = { ...current.rates };
  if (update.all !== undefined) for (const k of FAULT_KINDS) rates[k] = update.all;
  for (const [k, v] of Object.entries(update.rates ?? {})) if (v !== undefined) rates[k as FaultKind] = v;
  return { rates, slowMs: update.slowMs ?? current.slowMs };
}

/** What to do to one API call: wait first, then maybe fail. */
export interface FaultDecision {
  delayMs: number;
  error?: ApiError;
  /** The 401 is answered by the auth layer, in its own shape. */
  expireToken: boolean;
  /** Blob GETs: answer 200 with the records' JSON broken this way. */
  brokenBody?: BrokenBody;
}

export class FaultInjector {
  settings: FaultSettings;
  readonly #random: Random;

  constructor(settings: FaultSettings, seed: number) {
    this.settings = settings;
    // Seeded, so a failing run with faults can be replayed with the same seed and call sequence.
    this.#random = new Random(`${seed}:faults`);
  }

  update(update: FaultUpdate): FaultSettings {
    this.settings = applyFaultUpdate(this.settings, update);
    return this.settings;
  }

  decide(method: string, publisherId: string): FaultDecision {
    const r = this.settings.rates;
    const delayMs = this.#random.chance(r.slow) ? this.settings.slowMs : 0;
    // One draw decides among the failures, so the rates add up rather than shadow each other.
    let draw = this.#random.next();
    const hit = (kind: FaultKind): boolean => {
      draw -= r[kind];
      return draw < 0;
    };
    if (hit('af429As403')) return { delayMs, error: apiErrors.tooManyRequests(method, publisherId, 403), expireToken: false };
    if (hit('af429As429')) return { delayMs, error: apiErrors.tooManyRequests(method, publisherId, 429), expireToken: false };
    if (hit('af429As429RetryAfter')) return { delayMs, error: apiErrors.tooManyRequests(method, publisherId, 429, { 'Retry-After': '1' }), expireToken: false };
    if (hit('tokenExpired401')) return { delayMs, expireToken: true };
    if (hit('internal500')) return { delayMs, error: apiErrors.internal(), expireToken: false };
    if (hit('unavailable503')) return { delayMs, error: new ApiError(503, 'AF50005', 'An internal error occurred. Retry the request.'), expireToken: false };
    if (hit('timeout408')) return { delayMs, error: new ApiError(408, 'AF50006', 'An internal error occurred. Retry the request.'), expireToken: false };
    if (method === 'GetBlob') {
      if (hit('malformedBlob200')) return { delayMs, expireToken: false, brokenBody: 'malformed' };
      if (hit('truncatedBlob200')) return { delayMs, expireToken: false, brokenBody: 'truncated' };
      if (hit('htmlBlob200')) return { delayMs, expireToken: false, brokenBody: 'html' };
    }
    return { delayMs, expireToken: false };
  }
}
