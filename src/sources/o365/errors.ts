import { parseRetryAfter } from '../../core/backoff.ts';
import type { RawResponse } from './http.ts';

/**
 * What an answer from the Management Activity API means (docs/api-notes.md#o365-errors).
 * Pure: a response in, a verdict out. Where AF429 is handled: here (both the 403 and 429 forms).
 */
export type ApiVerdict =
  | { kind: 'ok' }
  | { kind: 'throttled'; code: string; retryAfterMs?: number }
  | { kind: 'auth-expired' }
  | { kind: 'transient'; code: string; message: string }
  | { kind: 'config'; code: string; message: string; hint: string }
  | { kind: 'already-enabled' }
  | { kind: 'no-subscription'; code: string }
  | { kind: 'subscription-disabled' }
  | { kind: 'bad-window'; code: string; message: string }
  | { kind: 'bad-next-page'; message: string }
  | { kind: 'content-gone'; code: string; message: string }
  | { kind: 'bad-request'; code: string; message: string };

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

export function classifyApiResponse(res: RawResponse, now: number): ApiVerdict {
  if (res.status >= 200 && res.status < 300) return { kind: 'ok' };
  const { code, message } = parseApiError(res.body);
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now);

  if (code === 'AF429' || res.status === 429) return { kind: 'throttled', code: code || 'HTTP 429', retryAfterMs };
  if (res.status === 401) return { kind: 'auth-expired' };
  if (code === 'AF20024') return { kind: 'already-enabled' };
  if (code === 'AF20022') return { kind: 'no-subscription', code };
  if (code === 'AF20023') return { kind: 'subscription-disabled' };
  if (code === 'AF20030' || code === 'AF20055') return { kind: 'bad-window', code, message };
  if (code === 'AF20031') return { kind: 'bad-next-page', message };
  if (code === 'AF20050' || code === 'AF20051' || code === 'AF20052') return { kind: 'content-gone', code, message };
  const hint = CONFIG_HINTS[code];
  if (hint) return { kind: 'config', code, message, hint };
  if (TRANSIENT_CODES.has(code) || res.status >= 500 || res.status === 408) {
    return { kind: 'transient', code: code || `HTTP ${res.status}`, message };
  }
  if (res.status === 403) {
    return { kind: 'config', code: code || 'HTTP 403', message, hint: 'access denied: check the app permissions (ActivityFeed.Read) and admin consent' };
  }
  if (res.status === 404 && !code) return { kind: 'content-gone', code: 'HTTP 404', message };
  return { kind: 'bad-request', code: code || `HTTP ${res.status}`, message };
}

/** Server time from the `Date` header, to detect local clock skew (AF20030/AF20055 are often skew). */
export function serverTime(res: RawResponse): number | undefined {
  const date = res.headers['date'];
  if (!date) return undefined;
  const t = Date.parse(date);
  return Number.isNaN(t) ? undefined : t;
}
