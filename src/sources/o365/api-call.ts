import { backoffDelay } from '../../core/backoff.ts';
import { StreamConfigError, type StreamContext } from '../../core/source.ts';
import { formatDuration } from '../../core/time.ts';
import type { TenantClient } from './client/tenant-client.ts';
import { type ApiVerdict, classifyApiResponse, serverTime } from './errors.ts';
import type { RawResponse } from './http.ts';

const THROTTLE_BACKOFF = { initialMs: 1_000, maxMs: 5 * 60_000, multiplier: 2 };
const TRANSIENT_BACKOFF = { initialMs: 1_000, maxMs: 60_000, multiplier: 2 };
const MAX_TRANSIENT_ATTEMPTS = 5;
const MAX_AUTH_RETRIES = 2;
/** Beyond this, local clock skew is reported and windows follow Microsoft's clock. */
export const SKEW_TOLERANCE_MS = 2 * 60_000;

/** Failed after retries for a reason that may pass (5xx, network): the caller decides what to retry. */
export class TransientApiError extends Error {
  override readonly name = 'TransientApiError';
}

/**
 * Throttling is per tenant, so the backoff is too: consecutive AF429s across all of a tenant's
 * streams grow the hold (1 s, 2 s, 4 s ... 5 min), and any success resets it. A lone AF429 then
 * costs a second, while a storm backs the whole tenant off quickly.
 */
export class TenantThrottle {
  #consecutive = 0;
  onThrottle(retryAfterMs: number | undefined): number {
    const delay = retryAfterMs ?? backoffDelay(THROTTLE_BACKOFF, this.#consecutive);
    this.#consecutive++;
    return delay;
  }
  onSuccess(): void {
    this.#consecutive = 0;
  }
  get consecutive(): number {
    return this.#consecutive;
  }
}

/** Tracks the offset between Microsoft's clock (Date header) and ours, per tenant. */
export class ClockSkew {
  #skewMs = 0;
  #reported = false;
  observe(serverMs: number | undefined, localMs: number, ctx: StreamContext): void {
    if (serverMs === undefined) return;
    // Date has 1-second resolution: ignore small differences.
    const skew = serverMs - localMs;
    this.#skewMs = Math.abs(skew) > SKEW_TOLERANCE_MS ? skew : 0;
    if (this.#skewMs !== 0 && !this.#reported) {
      this.#reported = true;
      ctx.log.error(
        { skew: formatDuration(-skew), fix: 'synchronise the host clock (NTP)' },
        `local clock is ${formatDuration(Math.abs(skew))} ${skew < 0 ? 'ahead of' : 'behind'} Microsoft's; listing windows follow Microsoft's clock meanwhile`,
      );
    }
  }
  get skewMs(): number {
    return this.#skewMs;
  }
}

/**
 * One API operation with the retry policy applied: every attempt waits for the tenant's budget;
 * throttling (403 AF429, 429) holds the whole tenant's budget and backs off with jitter (Retry-After
 * if given) without limit; a 401 renews the token; 5xx/408/network retry a few times with backoff;
 * configuration errors throw StreamConfigError. Anything else comes back to the caller to decide.
 */
export async function callApi(
  ctx: StreamContext,
  client: TenantClient,
  skew: ClockSkew,
  operation: string,
  send: (token: string) => Promise<RawResponse>,
  priority = 0,
): Promise<{ res: RawResponse; verdict: ApiVerdict }> {
  let transients = 0;
  let authRetries = 0;
  for (;;) {
    ctx.signal.throwIfAborted();
    const token = await client.tokens.token();
    let res: RawResponse;
    try {
      res = await ctx.budget.schedule(() => send(token), { priority, signal: ctx.signal });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      ctx.metrics.apiRequest(operation, 'network-error');
      if (++transients >= MAX_TRANSIENT_ATTEMPTS) throw new TransientApiError(`${operation}: ${(err as Error).message}`);
      await ctx.sleep(backoffDelay(TRANSIENT_BACKOFF, transients - 1));
      continue;
    }
    const now = ctx.now();
    skew.observe(serverTime(res), now, ctx);
    const verdict = classifyApiResponse(res, now);
    ctx.metrics.apiRequest(operation, String(res.status));
    switch (verdict.kind) {
      case 'throttled': {
        ctx.metrics.throttled(operation);
        const delay = client.throttle.onThrottle(verdict.retryAfterMs);
        ctx.budget.holdFor(delay);
        const level = client.throttle.consecutive > 3 ? 'warn' : 'info';
        ctx.log[level]({ operation, code: verdict.code, holdFor: formatDuration(delay), consecutive: client.throttle.consecutive }, 'throttled by the Management Activity API; holding this tenant');
        continue;
      }
      case 'auth-expired':
        if (++authRetries > MAX_AUTH_RETRIES) {
          throw new StreamConfigError(`${operation}: the API keeps answering 401 with a fresh token`, 'check that the app has the ActivityFeed.Read permission with admin consent, and the token audience (cloud)');
        }
        client.tokens.invalidate();
        continue;
      case 'transient':
        if (++transients >= MAX_TRANSIENT_ATTEMPTS) throw new TransientApiError(`${operation}: ${verdict.code} ${verdict.message}`);
        await ctx.sleep(backoffDelay(TRANSIENT_BACKOFF, transients - 1));
        continue;
      case 'config':
        throw new StreamConfigError(`${operation}: ${verdict.code} ${verdict.message}`, verdict.hint);
      default:
        client.throttle.onSuccess();
        return { res, verdict };
    }
  }
}
