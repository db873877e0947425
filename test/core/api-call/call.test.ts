import { describe, expect, it } from 'vitest';
import { type ApiCallContext, type Judged, callApi, TransientApiError } from '../../../src/core/api-call/call.ts';
import { RETRY_DEFAULTS } from '../../../src/core/retry-defaults.ts';
import type { Verdict } from '../../../src/core/api-call/verdict.ts';
import type { ThrottleBackoff } from '../../../src/core/budget.ts';
import { StreamConfigError } from '../../../src/core/source.ts';
import { silentLogger } from '../../../src/telemetry/log.ts';

type Meaning = 'gone';

/** A context whose budget runs at once and records holds, and whose sleeps are recorded, not waited. */
function context() {
  const holds: number[] = [];
  const sleeps: number[] = [];
  const requests: string[] = [];
  let consecutive = 0;
  let resets = 0;
  const abort = new AbortController();
  const ctx: ApiCallContext = {
    signal: abort.signal,
    budget: {
      key: 'test/budget',
      requestsPerMinute: 100,
      schedule: (fn) => fn(),
      holdFor: (ms) => holds.push(ms),
      throttle: {
        next: (retryAfterMs: number | undefined) => ({ holdMs: retryAfterMs ?? 1000, consecutive: ++consecutive }),
        reset: () => {
          consecutive = 0;
          resets++;
        },
      } as unknown as ThrottleBackoff,
      usedLastMinute: () => 0,
      heldForMs: () => 0,
    },
    log: silentLogger(),
    metrics: {
      recordsExported: () => undefined,
      recordsRejected: () => undefined,
      recordsSetAside: () => undefined,
      recordsDeduplicated: () => undefined,
      apiRequest: (_op, status) => requests.push(status),
      throttled: () => undefined,
      eventLagMs: () => undefined,
      cursorAgeMs: () => undefined,
    },
    now: () => 0,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  return { ctx, holds, sleeps, requests, abort, resets: () => resets };
}

/** A call whose answers are the given verdicts in turn (the last one repeats). */
function scripted(verdicts: Verdict<Meaning>[], extra: { renewAuth?: () => void } = {}) {
  let i = 0;
  return {
    operation: 'test/op',
    attempt: async () => i,
    judge: (): Judged<Meaning> => {
      const verdict = verdicts[Math.min(i, verdicts.length - 1)] as Verdict<Meaning>;
      i++;
      return { verdict, status: verdict.kind };
    },
    ...extra,
    get attempts() {
      return i;
    },
  };
}

describe('callApi (the one API-call policy)', () => {
  it('holds the budget on every throttling answer, without limit, and resets it on the next answer', async () => {
    const { ctx, holds, resets } = context();
    const throttles = Array.from({ length: 12 }, (_, n): Verdict<Meaning> => ({ kind: 'throttled', reason: 'AF429', ...(n === 3 ? { retryAfterMs: 7000 } : {}) }));
    const call = scripted([...throttles, { kind: 'ok' }]);
    const result = await callApi(ctx, call);
    expect(result.ok).toBe(true);
    expect(holds).toHaveLength(12);
    expect(holds[3]).toBe(7000);
    expect(resets()).toBe(1);
  });

  it('renews the credential after a 401 and retries at once; a 401 that persists counts as its ifPersistent', async () => {
    const { ctx, sleeps } = context();
    let renewed = 0;
    const persistent: Verdict<Meaning> = {
      kind: 'auth-expired',
      reason: 'HTTP 401',
      ifPersistent: { kind: 'config', code: 'AF10001', message: 'no permission', hint: 'grant ActivityFeed.Read' },
    };
    const call = scripted([persistent], { renewAuth: () => renewed++ });
    const failure = callApi(ctx, call);
    await expect(failure).rejects.toBeInstanceOf(StreamConfigError);
    await expect(failure).rejects.toThrow('test/op: AF10001 no permission');
    expect(call.attempts).toBe(RETRY_DEFAULTS.authRenewals + 1);
    expect(renewed).toBe(RETRY_DEFAULTS.authRenewals + 1);
    expect(sleeps).toEqual([]);

    const once = scripted([{ ...persistent, ifPersistent: { kind: 'transient', reason: 'HTTP 401' } }, { kind: 'ok' }]);
    await expect(callApi(ctx, once)).resolves.toMatchObject({ ok: true });
  });

  it('retries transient failures with backoff, then hands a TransientApiError to the caller', async () => {
    const { ctx, sleeps } = context();
    const call = scripted([{ kind: 'transient', reason: 'HTTP 503', message: 'busy' }]);
    await expect(callApi(ctx, call)).rejects.toThrow(TransientApiError);
    expect(call.attempts).toBe(RETRY_DEFAULTS.transientAttempts);
    expect(sleeps).toHaveLength(RETRY_DEFAULTS.transientAttempts - 1);
    for (const [n, ms] of sleeps.entries()) {
      const ceiling = Math.min(RETRY_DEFAULTS.transientBackoff.maxMs, RETRY_DEFAULTS.transientBackoff.initialMs * 2 ** n);
      expect(ms).toBeGreaterThanOrEqual(ceiling * 0.1 - 1);
      expect(ms).toBeLessThanOrEqual(ceiling);
    }
  });

  it('stops the stream on a configuration answer, naming the operation and the fix', async () => {
    const { ctx } = context();
    const call = scripted([{ kind: 'config', message: 'the tenant has auditing off', hint: 'turn on auditing' }]);
    const failure = callApi(ctx, call);
    await expect(failure).rejects.toThrow('test/op: the tenant has auditing off');
    await expect(failure).rejects.toMatchObject({ hint: 'turn on auditing' });
    expect(call.attempts).toBe(1);
  });

  it('gives an answer only the caller understands back, with the response', async () => {
    const { ctx, requests } = context();
    const result = await callApi(ctx, scripted([{ kind: 'transient', reason: 'HTTP 500' }, { kind: 'other', meaning: 'gone', code: 'AF20051', message: 'expired' }]));
    expect(result).toEqual({ ok: false, verdict: { kind: 'other', meaning: 'gone', code: 'AF20051', message: 'expired' }, value: 1 });
    expect(requests).toEqual(['transient', 'other']);
  });

  it('rethrows what an attempt threw once the stream is stopping', async () => {
    const { ctx, abort } = context();
    const call = {
      operation: 'test/op',
      attempt: async () => {
        abort.abort();
        throw new Error('socket closed by the stop');
      },
      judge: (): Judged<Meaning> => ({ verdict: { kind: 'transient', reason: 'network' }, status: 'network-error' }),
    };
    await expect(callApi(ctx, call)).rejects.toThrow('socket closed by the stop');
  });
});
