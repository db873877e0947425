import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BrokenBody, sendBrokenText, sendJson, sendJsonText } from '../../../emulator/https.ts';
import type { Random } from '../../o365/emulator/random.ts';
import { APPLICATIONS, GMAIL_MAX_WINDOW_MS, RETENTION_MS } from '../config.ts';
import type { ActivityStore, EmulatedActivity } from './activities.ts';
import type { OAuthState } from './oauth.ts';

/**
 * `GET /admin/reports/v1/activity/users/{userKey}/applications/{applicationName}` with the rules
 * of docs/api-notes.md (#google-activities-list, #google-time-rules, #google-quota): the Reports privilege of the token's subject, known application names, RFC 3339
 * times within the 180-day retention, gmail's both-times and 30-day rules, maxResults, and page
 * tokens valid only for their own query (a page set is a snapshot taken at its first page).
 * Faults: quota 403s (three reasons), 429, 503, a repeated token with no items, empty pages that
 * still carry a token, a per-project queries-per-minute quota, a 200 whose body is malformed or
 * truncated JSON or an HTML page, and a 401 for a token revoked before its announced expiry.
 */

export const GOOGLE_FAULT_KINDS = [
  'quota403',
  'quota429',
  'unavailable503',
  'repeatedToken',
  'emptyPage',
  // 200 with the page's JSON broken (a stray token; the first half only) or an HTML page instead.
  'malformedJson200',
  'truncatedJson200',
  'html200',
  // The access token expires (is revoked) on the server before the expiry it was issued with: 401.
  'tokenExpired401',
] as const;
export type GoogleFaultKind = (typeof GOOGLE_FAULT_KINDS)[number];

export interface GoogleFaults {
  rates: Record<GoogleFaultKind, number>;
  /** Queries per minute per project before 403 rateLimitExceeded (0: no limit). */
  quotaPerMinute: number;
}

export const REALISTIC_GOOGLE_RATES: Record<GoogleFaultKind, number> = {
  quota403: 0.03,
  quota429: 0.01,
  unavailable503: 0.01,
  repeatedToken: 0.02,
  emptyPage: 0.02,
  malformedJson200: 0.005,
  truncatedJson200: 0.005,
  html200: 0.005,
  tokenExpired401: 0.005,
};

export interface ReportsState {
  store: ActivityStore;
  oauth: OAuthState;
  customerId: string;
  faults: GoogleFaults;
  random: Random;
  pageSize: number;
  /** Request start times per project in the last minute. */
  recent: Map<string, number[]>;
  stats: { requests: number; faults: Record<GoogleFaultKind | 'quotaPerMinute', number> };
}

const PATH = /^\/admin\/reports\/v1\/activity\/users\/([^/]+)\/applications\/([^/]+)$/;
const KNOWN: ReadonlySet<string> = new Set(APPLICATIONS);

/** Writes an answer; `true` so handlers can `return reply(...)`. */
function reply(res: ServerResponse, status: number, body: unknown): true {
  sendJson(res, status, body);
  return true;
}

function apiError(res: ServerResponse, status: number, message: string, reason: string, extra: Record<string, unknown> = {}): true {
  return reply(res, status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }], ...extra } });
}

interface PageToken {
  q: string;
  at: number;
  off: number;
  n?: string;
}

export function handleReports(state: ReportsState, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const match = PATH.exec(url.pathname);
  if (!match) return false;
  if (req.method !== 'GET') {
    apiError(res, 405, 'Method not allowed', 'methodNotAllowed');
    return true;
  }
  serve(state, req, res, decodeURIComponent(match[1] as string), decodeURIComponent(match[2] as string), url.searchParams);
  return true;
}

function serve(state: ReportsState, req: IncomingMessage, res: ServerResponse, userKey: string, application: string, params: URLSearchParams): boolean {
  const now = state.oauth.clock();
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const token = bearer ? state.oauth.tokens.get(bearer) : undefined;
  if (!token || token.expiresAt <= now) {
    return apiError(res, 401, 'Request had invalid authentication credentials. Expected OAuth 2 access token.', 'authError', { status: 'UNAUTHENTICATED' });
  }
  state.stats.requests++;
  // Quota first, as Google counts every query.
  const recent = (state.recent.get(token.projectId) ?? []).filter((t) => t > now - 60_000);
  recent.push(now);
  state.recent.set(token.projectId, recent);
  if (state.faults.quotaPerMinute > 0 && recent.length > state.faults.quotaPerMinute) {
    state.stats.faults.quotaPerMinute++;
    return quota403(res, 'rateLimitExceeded');
  }
  const fault = drawFault(state);
  if (fault === 'tokenExpired401') {
    token.expiresAt = now;
    return apiError(res, 401, 'Request had invalid authentication credentials. Expected OAuth 2 access token.', 'authError', { status: 'UNAUTHENTICATED' });
  }
  if (fault === 'quota403') return quota403(res, state.random.pick(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']));
  if (fault === 'quota429') return apiError(res, 429, 'Resource has been exhausted (e.g. check quota).', 'rateLimitExceeded', { status: 'RESOURCE_EXHAUSTED' });
  if (fault === 'unavailable503') return apiError(res, 503, 'The service is currently unavailable.', 'backendError', { status: 'UNAVAILABLE' });

  if (!state.oauth.users.get(token.subject)) {
    return apiError(res, 401, 'Access denied. You are not authorized to read activity records.', 'authError');
  }
  if (!KNOWN.has(application)) return apiError(res, 400, `Invalid value '${application}'. Values must match the following regular expression: '(access_evaluation)|...'`, 'invalid');
  const customerId = params.get('customerId');
  if (customerId && customerId !== state.customerId) return apiError(res, 403, 'Forbidden', 'forbidden');

  const startMs = parseTime(params.get('startTime'));
  const endMs = parseTime(params.get('endTime'));
  if (startMs === null || endMs === null) return apiError(res, 400, 'Invalid value for startTime/endTime: expected RFC 3339', 'invalid');
  if (startMs !== undefined && startMs < now - RETENTION_MS) return apiError(res, 400, 'Start time is after end time.', 'invalid');
  if (startMs !== undefined && (startMs > now || (endMs !== undefined && startMs > endMs))) return apiError(res, 400, 'Start time is after end time.', 'invalid');
  if (application === 'gmail' && (startMs === undefined || endMs === undefined || endMs - startMs > GMAIL_MAX_WINDOW_MS)) {
    return apiError(res, 400, 'For gmail, startTime and endTime are required and at most 30 days apart.', 'invalid');
  }
  const maxResults = Number(params.get('maxResults') ?? '1000');
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 1000) return apiError(res, 400, 'Invalid value for maxResults', 'invalid');

  const queryKey = hashQuery(userKey, application, params);
  let snapshot = now;
  let offset = 0;
  const pageToken = params.get('pageToken');
  if (pageToken) {
    const decoded = decodeToken(pageToken);
    if (!decoded || decoded.q !== queryKey) return apiError(res, 400, 'Invalid page token', 'invalid');
    snapshot = decoded.at;
    offset = decoded.off;
    if (fault === 'repeatedToken') return reply(res, 200, { kind: 'admin#reports#activities', etag: '"e"', nextPageToken: pageToken });
  }
  const size = Math.min(maxResults, state.pageSize);
  if (fault === 'emptyPage') {
    // An empty page that still carries a token (to the same place): the client must go on.
    return reply(res, 200, { kind: 'admin#reports#activities', etag: '"e"', nextPageToken: encodeToken({ q: queryKey, at: snapshot, off: offset, n: String(state.random.uint32()) }) });
  }
  const matching = state.store.query({
    application,
    userKey,
    startMs,
    endMs,
    eventName: params.get('eventName') ?? undefined,
    actorIpAddress: params.get('actorIpAddress') ?? undefined,
    visibleAt: snapshot,
  });
  const page = matching.slice(offset, offset + size);
  const nextPageToken = offset + size < matching.length ? encodeToken({ q: queryKey, at: snapshot, off: offset + size }) : undefined;
  const text = pageJson(`"${queryKey.slice(0, 8)}"`, page, nextPageToken);
  const broken = BROKEN[fault ?? ''];
  if (broken) {
    sendBrokenText(res, text, broken);
    return true;
  }
  sendJsonText(res, 200, text);
  return true;
}

/**
 * A page of activities as JSON text: exactly what JSON.stringify writes for
 * `{ kind, etag, items: page.map((a) => a.body), nextPageToken }`, with each activity's stored JSON
 * spliced in rather than a thousand objects serialized anew.
 */
export function pageJson(etag: string, page: readonly EmulatedActivity[], nextPageToken: string | undefined): string {
  const items = page.map((a) => a.json).join(',');
  const next = nextPageToken === undefined ? '' : `,"nextPageToken":${JSON.stringify(nextPageToken)}`;
  return `{"kind":"admin#reports#activities","etag":${JSON.stringify(etag)},"items":[${items}]${next}}`;
}

const BROKEN: Partial<Record<string, BrokenBody>> = { malformedJson200: 'malformed', truncatedJson200: 'truncated', html200: 'html' };

function quota403(res: ServerResponse, reason: string): true {
  return apiError(res, 403, "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service 'admin.googleapis.com'.", reason, {
    status: 'PERMISSION_DENIED',
  });
}

function drawFault(state: ReportsState): GoogleFaultKind | undefined {
  let draw = state.random.next();
  for (const kind of GOOGLE_FAULT_KINDS) {
    draw -= state.faults.rates[kind];
    if (draw < 0) {
      state.stats.faults[kind]++;
      return kind;
    }
  }
  return undefined;
}

/** undefined: absent; null: unreadable. */
function parseTime(value: string | null): number | undefined | null {
  if (value === null || value === '') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

function hashQuery(userKey: string, application: string, params: URLSearchParams): string {
  const relevant = [...params.entries()].filter(([k]) => k !== 'pageToken').sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify([userKey, application, relevant])).digest('base64url').slice(0, 22);
}

function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(text: string): PageToken | undefined {
  try {
    const t = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as PageToken;
    return typeof t.q === 'string' && typeof t.at === 'number' && typeof t.off === 'number' ? t : undefined;
  } catch {
    return undefined;
  }
}
