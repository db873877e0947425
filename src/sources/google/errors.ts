/**
 * Pure classification of what the Reports API and Google's token endpoint answer, in the core's
 * verdict vocabulary (the retry policy in `core/api-call` acts on it). The client libraries throw
 * GaxiosErrors; `describeFailure` reads one into plain data, `classify` gives its verdict. The
 * library retries 408/429/5xx on its own only when asked; we ask it not to and decide here, because
 * quota answers come back as 403s it would not retry.
 */
import type { Answer, Judged } from '../../core/api-call/call.ts';
import type { AuthExpiredVerdict, ConfigVerdict, ThrottledVerdict, TransientVerdict } from '../../core/api-call/verdict.ts';
import { parseRetryAfter } from '../../core/backoff.ts';
import { isAbortError } from '../../core/time.ts';
import { REPORTS_SCOPE } from './config.ts';

export interface ApiFailure {
  /** HTTP status, absent for network errors. */
  status?: number;
  /** Set when the token endpoint answered an OAuth error (`unauthorized_client`, `invalid_grant`, ...). */
  oauthError?: string;
  /** `errors[].reason` and `details[].reason` of an API error body. */
  reasons: string[];
  /** `error.status` of an API error body (e.g. RESOURCE_EXHAUSTED). */
  apiStatus?: string;
  message: string;
  /** Network error code (ECONNRESET, ...), if any. */
  code?: string;
  retryAfter?: string;
  aborted: boolean;
}

/** What a failed call means: Google's answers need no `other` meanings of their own. */
export type GoogleVerdict = ThrottledVerdict | TransientVerdict | AuthExpiredVerdict | ConfigVerdict;

/** Who is asking: names the fix hints carry. */
export interface Identity {
  customerId: string;
  subject: string;
  clientEmail: string;
  clientId: string;
  projectId: string;
  application: string;
  userKey: string;
}

const QUOTA_REASONS = new Set(['ratelimitexceeded', 'userratelimitexceeded', 'quotaexceeded', 'rate_limit_exceeded', 'resource_exhausted', 'dailylimitexceeded']);

type Loose = Record<string, unknown>;
const asObject = (v: unknown): Loose | undefined => (v !== null && typeof v === 'object' ? (v as Loose) : undefined);
const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Reads a thrown value (GaxiosError or other) into plain data. Never copies headers or request config. */
export function describeFailure(err: unknown): ApiFailure {
  const e = asObject(err) ?? {};
  const response = asObject(e['response']);
  const data = asObject(response?.['data']) ?? parseJson(response?.['data']);
  const status = typeof response?.['status'] === 'number' ? (response['status'] as number) : typeof e['status'] === 'number' ? (e['status'] as number) : undefined;
  const reasons: string[] = [];
  let apiStatus: string | undefined;
  let oauthError: string | undefined;
  let message = err instanceof Error ? err.message : String(err);
  const errorField = data?.['error'];
  if (typeof errorField === 'string') {
    oauthError = errorField;
    const description = asString(data?.['error_description']);
    message = description ? `${errorField}: ${description}` : errorField;
  } else if (asObject(errorField)) {
    const body = errorField as Loose;
    message = asString(body['message']) ?? message;
    apiStatus = asString(body['status']);
    for (const list of [body['errors'], body['details']]) {
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        const reason = asString(asObject(item)?.['reason']);
        if (reason) reasons.push(reason);
      }
    }
  }
  const cause = asObject(e['cause']);
  const code = asString(e['code']) ?? asString(cause?.['code']) ?? asString(asObject(cause?.['cause'])?.['code']);
  return {
    status,
    oauthError,
    reasons,
    apiStatus,
    message,
    code: code && !/^\d+$/.test(code) ? code : undefined,
    retryAfter: headerOf(response?.['headers'], 'retry-after'),
    aborted: isAbortError(err) || code === 'AbortError' || isAbortError(e['cause']),
  };
}

function parseJson(v: unknown): Loose | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    return asObject(JSON.parse(v));
  } catch {
    return undefined;
  }
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (headers && typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const h = asObject(headers);
  if (!h) return undefined;
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === name) return Array.isArray(v) ? String(v[0]) : asString(v);
  return undefined;
}

/** An attempt's outcome for the retry policy. An abort is rethrown: it is no answer of Google's. */
export function judgeAnswer<T>(answer: Answer<T>, who: Identity, now: number): Judged<never> {
  if ('value' in answer) return { verdict: { kind: 'ok' }, status: 'ok' };
  const failure = describeFailure(answer.error);
  if (failure.aborted) throw answer.error;
  return { verdict: classify(failure, who, now), status: failure.status === undefined ? (failure.code ?? 'error') : String(failure.status) };
}

export function classify(f: ApiFailure, who: Identity, now: number): GoogleVerdict {
  if (f.aborted) return { kind: 'transient', reason: 'aborted' };
  const retryAfterMs = parseRetryAfter(f.retryAfter, now);
  if (f.oauthError !== undefined) return classifyOAuth(f, who, retryAfterMs);
  const text = f.message.toLowerCase();
  const reasons = f.reasons.map((r) => r.toLowerCase());

  if (/not authorized to read activity records/.test(text)) {
    return {
      kind: 'config',
      message: `Google refused ${who.subject} reading ${who.application} activity records of customer ${who.customerId}: ${f.message}`,
      hint:
        `${who.subject} lacks the Reports privilege. In the Admin console, make it a super admin or give one of its admin roles ` +
        `Admin API privileges > Reports (Account > Admin roles), or set "subject" to an admin who has it.`,
    };
  }
  const quota = reasons.some((r) => QUOTA_REASONS.has(r)) || f.apiStatus === 'RESOURCE_EXHAUSTED' || /quota exceeded|rate limit exceeded/.test(text);
  if (f.status === 429 || (f.status === 403 && quota)) {
    return { kind: 'throttled', reason: f.reasons[0] ?? `HTTP ${f.status}`, retryAfterMs };
  }
  if (f.status === undefined) {
    return { kind: 'transient', reason: f.code ?? f.message };
  }
  if (f.status === 408 || f.status >= 500) return { kind: 'transient', reason: `HTTP ${f.status}`, retryAfterMs };
  if (f.status === 401) {
    // An expired or revoked access token: renewed, and the call retried. Google revokes tokens early
    // at times, so even a 401 that persists counts as a failure of this call, not of the config.
    return { kind: 'auth-expired', reason: 'HTTP 401', ifPersistent: { kind: 'transient', reason: 'HTTP 401 with fresh tokens' } };
  }
  if (f.status === 403 && (reasons.includes('accessnotconfigured') || reasons.includes('service_disabled') || /has not been used|is disabled/.test(text))) {
    return {
      kind: 'config',
      message: `The Admin SDK API is not enabled for project ${who.projectId}: ${f.message}`,
      hint: `Enable "Admin SDK API" in the Google Cloud console (APIs & Services > Library) for project ${who.projectId}, wait a few minutes.`,
    };
  }
  if (f.status === 403) {
    return {
      kind: 'config',
      message: `Google refused reading ${who.application} activities of customer ${who.customerId} as ${who.subject}: ${f.message}`,
      hint: `Check that ${who.subject} is an admin of customer ${who.customerId} with the Reports privilege, and that customerId is right.`,
    };
  }
  if (f.status === 404) {
    return {
      kind: 'config',
      message: `Not found: ${f.message} (application ${who.application}, userKey ${who.userKey})`,
      hint: `Check userKey "${who.userKey}" (an existing user's email or id, or "all") and customerId ${who.customerId}.`,
    };
  }
  return {
    kind: 'config',
    message: `Google rejected the ${who.application} activities query (HTTP ${f.status}): ${f.message}`,
    hint: `Check customerId, the application name and the optional userKey/eventName/filters/orgUnitID/actorIpAddress/groupIdFilter of ${who.application}.`,
  };
}

function classifyOAuth(f: ApiFailure, who: Identity, retryAfterMs: number | undefined): GoogleVerdict {
  const error = f.oauthError as string;
  const text = f.message.toLowerCase();
  if (f.status === 429 || (f.status !== undefined && f.status >= 500)) return { kind: 'transient', reason: `token endpoint HTTP ${f.status}`, retryAfterMs };
  if (error === 'unauthorized_client') {
    return {
      kind: 'config',
      message: `Google refused a token for ${who.clientEmail} acting as ${who.subject}: ${f.message}`,
      hint:
        `Domain-wide delegation is missing. In the Admin console (Security > Access and data control > API controls > ` +
        `Manage domain-wide delegation) add client ID ${who.clientId} with the scope ${REPORTS_SCOPE}. ` +
        `A new grant can take up to 24 hours to apply.`,
    };
  }
  if (error === 'invalid_grant' && /reasonable timeframe|iat|exp|not yet valid|expired/.test(text)) {
    return {
      kind: 'config',
      message: `Google refused the signed token request as outside a reasonable timeframe: ${f.message}`,
      hint: "This host's clock is off. Synchronise it with NTP (e.g. `timedatectl set-ntp true` or chrony) and restart.",
    };
  }
  if (error === 'invalid_grant' && /invalid email|user id|subject|not found/.test(text)) {
    return {
      kind: 'config',
      message: `Google does not know the subject ${who.subject}: ${f.message}`,
      hint: `Set "subject" to an existing admin user of customer ${who.customerId} (an email, not a group or alias).`,
    };
  }
  if (error === 'invalid_grant' && /signature/.test(text)) {
    return {
      kind: 'config',
      message: `Google refused the service account key of ${who.clientEmail}: ${f.message}`,
      hint: `The key was deleted or disabled. Create a new JSON key for ${who.clientEmail} in the Cloud console (IAM & Admin > Service accounts > Keys).`,
    };
  }
  if (error === 'invalid_client' || error === 'disabled_client' || error === 'access_denied') {
    return {
      kind: 'config',
      message: `Google refused the service account ${who.clientEmail}: ${f.message}`,
      hint: `Check that the service account exists and is enabled in project ${who.projectId}, and that the key file is current.`,
    };
  }
  if (error === 'invalid_scope') {
    return { kind: 'config', message: `Google refused the scope: ${f.message}`, hint: `The delegation must include ${REPORTS_SCOPE}.` };
  }
  return {
    kind: 'config',
    message: `Google refused a token for ${who.clientEmail} acting as ${who.subject}: ${f.message}`,
    hint: 'Check the service account key, the subject and the domain-wide delegation of the client ID in the Admin console.',
  };
}
