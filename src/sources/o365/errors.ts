import type { Answer, Judged } from '../../core/api-call/call.ts';
import type { Verdict } from '../../core/api-call/verdict.ts';
import { parseRetryAfter } from '../../core/backoff.ts';
import type { RawResponse } from './http.ts';

/**
 * What an answer from the Management Activity API means (docs/api-notes.md#o365-errors), in the
 * core's verdict vocabulary; the retry policy (`core/api-call`) acts on it. Pure: a response in, a
 * verdict out. Where AF429 is recognised: here (both the 403 and 429 forms).
 */
export type O365Verdict = Verdict<O365Meaning>;

/** Answers the stream handles itself (`other` verdicts). */
export type O365Meaning =
  | 'already-enabled'
  | 'no-subscription'
  | 'subscription-disabled'
  | 'bad-window'
  | 'bad-next-page'
  | 'content-gone'
  | 'bad-request';

/** Codes only the operator can fix, with the fix. */
const CONFIG_HINTS: Record<string, string> = {
  AF10001: 'the app lacks the ActivityFeed.Read (and for DLP.All, ActivityFeed.ReadDlp) application permission: add it in Entra and grant admin consent',
  AF20010: 'the token was issued for another tenant than the one in the URL: check tenantId and that the app is multi-tenant-consented here',
  AF20011: 'the tenant does not exist for the API, or unified audit logging is off: turn on auditing in Microsoft Purview (Audit > Start recording)',
  AF20012: 'the tenant is not configured correctly for the API: contact Microsoft support',
  AF20013: 'the tenant id is not a GUID: use the directory (tenant) id, not a domain name',
  AF20020: 'unknown content type: use Audit.AzureActiveDirectory, Audit.Exchange, Audit.SharePoint, Audit.General or DLP.All',
  AF20053: 'only one Accept-Language value is allowed',
  AF20054: 'the Accept-Language value is not supported',
};

const TRANSIENT_CODES = new Set(['AF50000', 'AF50005', 'AF50006']);

export function parseApiError(body: string): { code: string; message: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (parsed?.error && typeof parsed.error === 'object') {
      return { code: String(parsed.error.code ?? ''), message: String(parsed.error.message ?? '') };
    }
  } catch {
    // Not JSON: HTML error pages from gateways exist.
  }
  return { code: '', message: body.replace(/\s+/g, ' ').trim().slice(0, 300) };
}

/** A 401 with a fresh token means the app lacks the permission (or the token's audience is wrong). */
const PERSISTENT_401 = {
  kind: 'config',
  message: 'the API keeps answering 401 with a fresh token',
  hint: 'check that the app has the ActivityFeed.Read permission with admin consent, and the token audience (cloud)',
} as const;

export function classifyApiResponse(res: RawResponse, now: number): O365Verdict {
  if (res.status >= 200 && res.status < 300) return { kind: 'ok' };
  const { code, message } = parseApiError(res.body);
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now);
  const other = (meaning: O365Meaning, fallback = `HTTP ${res.status}`): O365Verdict => ({ kind: 'other', meaning, code: code || fallback, message });

  if (code === 'AF429' || res.status === 429) return { kind: 'throttled', reason: code || 'HTTP 429', retryAfterMs };
  if (res.status === 401) return { kind: 'auth-expired', reason: 'HTTP 401', ifPersistent: PERSISTENT_401 };
  if (code === 'AF20024') return other('already-enabled');
  if (code === 'AF20022') return other('no-subscription');
  if (code === 'AF20023') return other('subscription-disabled');
  if (code === 'AF20030' || code === 'AF20055') return other('bad-window');
  if (code === 'AF20031') return other('bad-next-page');
  if (code === 'AF20050' || code === 'AF20051' || code === 'AF20052') return other('content-gone');
  const hint = CONFIG_HINTS[code];
  if (hint) return { kind: 'config', code, message, hint };
  if (TRANSIENT_CODES.has(code) || res.status >= 500 || res.status === 408) {
    return { kind: 'transient', reason: code || `HTTP ${res.status}`, message };
  }
  if (res.status === 403) {
    return { kind: 'config', code: code || 'HTTP 403', message, hint: 'access denied: check the app permissions (ActivityFeed.Read) and admin consent' };
  }
  if (res.status === 404 && !code) return other('content-gone', 'HTTP 404');
  return other('bad-request');
}

/** An attempt's outcome for the retry policy: a response is classified, a thrown error is a network failure. */
export function judgeApiAnswer(answer: Answer<RawResponse>, now: number): Judged<O365Meaning> {
  if ('value' in answer) return { verdict: classifyApiResponse(answer.value, now), status: String(answer.value.status) };
  return { verdict: { kind: 'transient', reason: (answer.error as Error)?.message ?? String(answer.error) }, status: 'network-error' };
}

/** Server time from the `Date` header, to detect local clock skew (AF20030/AF20055 are often skew). */
export function serverTime(res: RawResponse): number | undefined {
  const date = res.headers['date'];
  if (!date) return undefined;
  const t = Date.parse(date);
  return Number.isNaN(t) ? undefined : t;
}
