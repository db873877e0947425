import { backoffDelay } from '../backoff.ts';
import { StreamConfigError, type StreamContext } from '../source.ts';
import { formatDuration } from '../time.ts';
import { RETRY_DEFAULTS } from '../retry-defaults.ts';
import type { ConfigVerdict, OkVerdict, OtherVerdict, TransientVerdict, Verdict } from './verdict.ts';

/**
 * Where every source API call is retried, held or given up on: one loop for all sources, driven by
 * the verdict the source's `errors.ts` gives each answer.
 * - every attempt waits for the stream's request budget;
 * - `throttled`: the whole budget is held (its throttle state grows the hold), then retried, without limit;
 * - `auth-expired`: the credential is renewed and the call retried at once; persisting, it counts as its `ifPersistent`;
 * - `transient`: retried with backoff, `transientAttempts` in all, then `TransientApiError` to the caller;
 * - `config`: `StreamConfigError` (the stream stops, the operator is told what to fix);
 * - `ok` and `other`: back to the caller, with the answer.
 */

/** The part of a stream's context a call needs. */
export type ApiCallContext = Pick<StreamContext, 'signal' | 'budget' | 'log' | 'metrics' | 'now' | 'sleep'>;

/** One attempt's outcome: what the API answered, or what the attempt threw (network error, library error). */
export type Answer<T> = { value: T } | { error: unknown };

export interface Judged<Meaning extends string> {
  verdict: Verdict<Meaning>;
  /** The `status` label of the API request metric (an HTTP status, `network-error`, ...). */
  status: string;
}

export interface ApiCall<T, Meaning extends string, Credential = void> {
  /** Names the call in logs, metrics and errors (`subscriptions/content`, `activities.list`). */
  operation: string;
  /** Before every attempt and outside the budget: the credential the attempt sends. Its errors go to the caller. */
  authorize?(): Promise<Credential>;
  /** One request. */
  attempt(credential: Credential): Promise<T>;
  /** Reads an answer into a verdict (the source's errors.ts). May rethrow what the attempt threw (an abort). */
  judge(answer: Answer<T>, now: number): Judged<Meaning>;
  /** The API refused the credential: the next `authorize` must not hand out the same one. */
  renewAuth?(): void;
  /** Budget priority: higher first (listing before blob GETs). */
  priority?: number;
}

/**
 * `ok`: the answer; otherwise an `other` verdict for the caller to act on, with the answer if there
 * was one. A source whose answers have no `other` meanings only ever gets `ok` back.
 */
export type CallResult<T, Meaning extends string> = [Meaning] extends [never]
  ? { ok: true; verdict: OkVerdict; value: T }
  : { ok: true; verdict: OkVerdict; value: T } | { ok: false; verdict: OtherVerdict<Meaning>; value: T | undefined };

/** A call failed transiently `transientAttempts` times: the caller decides what to retry, and when. */
export class TransientApiError extends Error {
  override readonly name = 'TransientApiError';
}

export async function callApi<T, Meaning extends string, Credential = void>(ctx: ApiCallContext, call: ApiCall<T, Meaning, Credential>): Promise<CallResult<T, Meaning>> {
  const { operation } = call;
  let transients = 0;
  let renewals = 0;
  for (;;) {
    ctx.signal.throwIfAborted();
    const credential = (await call.authorize?.()) as Credential;
    let answer: Answer<T>;
    try {
      answer = { value: await ctx.budget.schedule(() => call.attempt(credential), { priority: call.priority ?? 0, signal: ctx.signal }) };
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      answer = { error };
    }
    const { verdict: first, status } = call.judge(answer, ctx.now());
    ctx.metrics.apiRequest(operation, status);
    let verdict: Verdict<Meaning> = first;
    if (verdict.kind === 'auth-expired') {
      call.renewAuth?.();
      if (++renewals <= RETRY_DEFAULTS.authRenewals) continue;
      verdict = verdict.ifPersistent;
    }
    switch (verdict.kind) {
      case 'throttled': {
        ctx.metrics.throttled(operation);
        const { holdMs, consecutive } = ctx.budget.throttle.next(verdict.retryAfterMs);
        ctx.budget.holdFor(holdMs);
        ctx.log[consecutive > 3 ? 'warn' : 'info'](
          { operation, reason: verdict.reason, budget: ctx.budget.key, holdFor: formatDuration(holdMs), consecutive },
          'throttled by the API: holding every request of this budget',
        );
        continue;
      }
      case 'transient': {
        if (++transients >= RETRY_DEFAULTS.transientAttempts) throw new TransientApiError(`${operation} failed ${transients} times, last: ${describe(verdict)}`);
        const delay = Math.max(verdict.retryAfterMs ?? 0, backoffDelay(RETRY_DEFAULTS.transientBackoff, transients - 1));
        ctx.log.warn({ reason: describe(verdict), retryIn: formatDuration(delay) }, `${operation} failed; retrying`);
        await ctx.sleep(delay);
        continue;
      }
      case 'config':
        throw configError(operation, verdict);
      default:
        ctx.budget.throttle.reset();
        return { ok: verdict.kind === 'ok', verdict, value: 'value' in answer ? answer.value : undefined } as CallResult<T, Meaning>;
    }
  }
}

function describe(v: TransientVerdict): string {
  return v.message ? `${v.reason} ${v.message}` : v.reason;
}

function configError(operation: string, v: ConfigVerdict): StreamConfigError {
  return new StreamConfigError(`${operation}: ${v.code ? `${v.code} ` : ''}${v.message}`, v.hint);
}
