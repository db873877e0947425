import { gaxios } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { classify, describeFailure, type Identity, judgeAnswer } from '../../../src/sources/google/errors.ts';

const who: Identity = {
  customerId: 'C01abc',
  subject: 'admin@example.com',
  clientEmail: 'relay@proj.iam.gserviceaccount.com',
  clientId: '1234567890',
  projectId: 'proj',
  application: 'login',
  userKey: 'all',
};
const now = Date.parse('2026-11-22T12:00:00Z');

/** A GaxiosError as the library throws it for an HTTP answer. */
function httpError(status: number, data: unknown, headers: Record<string, string> = {}): gaxios.GaxiosError {
  const config = { url: new URL('https://admin.googleapis.com/x'), headers: new Headers(), responseType: 'json' } as never;
  const response = { status, statusText: '', ok: false, headers: new Headers(headers), data, config, bodyUsed: true } as never;
  return new gaxios.GaxiosError(`Request failed with status code ${status}`, config, response);
}

function apiError(status: number, reason: string, message: string, extra: Record<string, unknown> = {}) {
  return httpError(status, { error: { code: status, message, errors: [{ message, domain: 'usageLimits', reason }], ...extra } });
}

const kind = (err: unknown) => classify(describeFailure(err), who, now);

describe('Google error classification', () => {
  it('treats quota 403s and 429 as throttling (the library does not retry those 403s)', () => {
    for (const reason of ['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']) {
      expect(kind(apiError(403, reason, 'Quota exceeded')).kind).toBe('throttled');
    }
    const modern = httpError(403, {
      error: { code: 403, message: "Quota exceeded for quota metric 'Queries'", status: 'PERMISSION_DENIED', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'RATE_LIMIT_EXCEEDED' }] },
    });
    expect(kind(modern).kind).toBe('throttled');
    const limited = kind(httpError(429, { error: { code: 429, message: 'slow down', status: 'RESOURCE_EXHAUSTED' } }, { 'retry-after': '7' }));
    expect(limited).toEqual({ kind: 'throttled', reason: 'HTTP 429', retryAfterMs: 7000 });
  });

  it('retries 5xx, 408 and network errors', () => {
    expect(kind(apiError(503, 'backendError', 'Backend Error')).kind).toBe('transient');
    expect(kind(apiError(500, 'internalError', 'Internal')).kind).toBe('transient');
    expect(kind(httpError(408, 'timeout')).kind).toBe('transient');
    const reset = new gaxios.GaxiosError('fetch failed', { url: new URL('https://x') } as never, undefined, Object.assign(new Error('socket'), { code: 'ECONNRESET' }));
    expect(kind(reset)).toEqual({ kind: 'transient', reason: 'ECONNRESET' });
  });

  it('says what to fix for a missing domain-wide delegation', () => {
    const err = httpError(401, { error: 'unauthorized_client', error_description: 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.' });
    const verdict = kind(err);
    expect(verdict.kind).toBe('config');
    if (verdict.kind !== 'config') return;
    expect(verdict.hint).toMatch(/domain-wide delegation/);
    expect(verdict.hint).toContain('1234567890');
    expect(verdict.hint).toContain('admin.reports.audit.readonly');
  });

  it('says what to fix for a subject without the Reports privilege', () => {
    const verdict = kind(apiError(401, 'authError', 'Access denied. You are not authorized to read activity records.'));
    expect(verdict.kind).toBe('config');
    if (verdict.kind === 'config') expect(verdict.hint).toMatch(/Reports privilege[\s\S]*admin@example.com|admin@example.com[\s\S]*Reports/);
  });

  it('says to fix the host clock for a clock-skew invalid_grant', () => {
    const err = httpError(400, {
      error: 'invalid_grant',
      error_description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
    });
    const verdict = kind(err);
    expect(verdict.kind).toBe('config');
    if (verdict.kind === 'config') expect(verdict.hint).toMatch(/clock[\s\S]*NTP/);
  });

  it('names other operator problems: unknown application, disabled API, unknown subject', () => {
    const bad = kind(apiError(400, 'invalid', 'Bad Request'));
    expect(bad.kind).toBe('config');
    const disabled = kind(apiError(403, 'accessNotConfigured', 'Admin SDK API has not been used in project 42 before or it is disabled.'));
    expect(disabled.kind === 'config' && disabled.hint).toMatch(/Enable "Admin SDK API"/);
    const subject = kind(httpError(400, { error: 'invalid_grant', error_description: 'Invalid email or User ID' }));
    expect(subject.kind === 'config' && subject.hint).toMatch(/subject/);
    const forbidden = kind(apiError(403, 'forbidden', 'Forbidden'));
    expect(forbidden.kind).toBe('config');
  });

  it('keeps retrying a token endpoint that fails transiently', () => {
    expect(kind(httpError(503, { error: 'internal_failure', error_description: 'try later' })).kind).toBe('transient');
  });

  it('renews the token on a 401, and counts one that persists as a failure of the call, not of the config', () => {
    expect(kind(httpError(401, { error: { code: 401, message: 'Invalid Credentials', errors: [{ reason: 'authError' }] } }))).toEqual({
      kind: 'auth-expired',
      reason: 'HTTP 401',
      ifPersistent: { kind: 'transient', reason: 'HTTP 401 with fresh tokens' },
    });
  });

  it('gives an abort back to the caller instead of judging it', () => {
    const abort = new DOMException('The operation was aborted', 'AbortError');
    expect(describeFailure(abort).aborted).toBe(true);
    expect(() => judgeAnswer({ error: abort }, who, now)).toThrow(abort);
    expect(judgeAnswer({ value: { items: [] } }, who, now)).toEqual({ verdict: { kind: 'ok' }, status: 'ok' });
  });

  it('keeps no request headers or secrets in what it describes', () => {
    const failure = describeFailure(apiError(403, 'rateLimitExceeded', 'Quota exceeded'));
    expect(JSON.stringify(failure)).not.toMatch(/authorization|Bearer/i);
  });
});
