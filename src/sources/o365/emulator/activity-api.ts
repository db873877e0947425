import type { IncomingMessage, ServerResponse } from 'node:http';
import { sleep } from '../../../core/time.ts';
import { type BrokenBody, readBody, sendBroken, sendJson } from '../../../emulator/https.ts';
import { CONTENT_TYPES, type ContentType } from '../config.ts';
import { type BlobDescriptor, CONTENT_ID_SHAPE, type ContentCatalogue } from './catalogue.ts';
import type { TokenStore } from './entra.ts';
import { ApiError, apiErrors, NO_PUBLISHER } from './errors.ts';
import type { FaultInjector } from './faults.ts';
import { SENSITIVE_TYPES } from './records.ts';
import type { Subscriptions, Webhook } from './subscriptions.ts';
import type { PublisherPools, StartThrottle } from './throttle.ts';
import { resolveWindow } from './time-window.ts';

/**
 * The Management Activity API, `/api/v1.0/{tenantId}/activity/feed/...`, as docs/api-notes.md and the
 * troubleshooting guide describe it. Checks run in the order the service appears to apply them:
 * injected faults, the bearer token (401), the tenant in the URL (AF20013, AF20010, AF20011), the
 * permission (AF10001), the publisher's request pool (AF429), then the operation itself.
 */
export interface ActivityApiDeps {
  tenantId: string;
  baseUrl: () => string;
  /** The server's clock (shifted under the clock-skew stage). */
  clock: () => number;
  catalogue: ContentCatalogue;
  subscriptions: Subscriptions;
  tokens: TokenStore;
  faults: FaultInjector;
  pools: PublisherPools;
  startThrottle: StartThrottle;
  /** Unified audit logging off: every call answers AF20011. */
  auditOff: boolean;
  pageSize: number;
}

interface Operation {
  method: 'GET' | 'POST';
  /** The name the service puts in AF429 messages. */
  name: string;
  run: (deps: ActivityApiDeps, call: Call) => Promise<void> | void;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  query: CaseInsensitiveQuery;
  publisherId: string;
  /** For blob GETs: the content id from the path. */
  contentId?: string;
  /** For blob GETs: an injected fault that breaks the body behind the 200. */
  brokenBody?: BrokenBody;
}

const FEED = /^\/api\/v1\.0\/([^/]+)\/activity\/feed\/(.+)$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const OPERATIONS: Record<string, Operation> = {
  'subscriptions/start': { method: 'POST', name: 'StartSubscription', run: startSubscription },
  'subscriptions/stop': { method: 'POST', name: 'StopSubscription', run: stopSubscription },
  'subscriptions/list': { method: 'GET', name: 'ListSubscriptions', run: listSubscriptions },
  'subscriptions/content': { method: 'GET', name: 'ListContent', run: listContent },
  'subscriptions/notifications': { method: 'GET', name: 'ListNotifications', run: listNotifications },
  'resources/dlpsensitivetypes': { method: 'GET', name: 'GetDlpSensitiveTypes', run: dlpSensitiveTypes },
  audit: { method: 'GET', name: 'GetBlob', run: getBlob },
};

/** Handles the request if it is an activity feed path; returns false otherwise. */
export async function handleActivityApi(deps: ActivityApiDeps, req: IncomingMessage, res: ServerResponse, path: string, search: URLSearchParams): Promise<boolean> {
  const match = FEED.exec(path);
  if (!match) return false;
  const [, urlTenant, rest] = match as unknown as [string, string, string];
  res.setHeader('Date', new Date(deps.clock()).toUTCString());
  const blob = /^audit\/(.+)$/i.exec(rest);
  const operation = OPERATIONS[blob ? 'audit' : rest.toLowerCase()];
  if (!operation) {
    sendJson(res, 404, { Message: `No HTTP resource was found that matches the request URI '${deps.baseUrl()}${path}'.` });
    return true;
  }
  if (req.method !== operation.method) {
    sendJson(res, 405, { Message: `The requested resource does not support http method '${req.method}'.` });
    return true;
  }
  const query = new CaseInsensitiveQuery(search);
  const publisherId = query.get('PublisherIdentifier') || undefined;
  const call: Call = { req, res, query, publisherId: publisherId ?? NO_PUBLISHER, ...(blob ? { contentId: decodeURIComponent(blob[1] as string) } : {}) };
  try {
    const fault = deps.faults.decide(operation.name, call.publisherId);
    if (fault.delayMs > 0) await sleep(fault.delayMs);
    if (fault.error) throw fault.error;
    if (fault.expireToken || !authorize(deps, req, urlTenant)) {
      unauthorized(res, fault.expireToken);
      return true;
    }
    if (deps.auditOff) throw apiErrors.tenantMissing(urlTenant);
    const throttled = deps.pools.take(publisherId, operation.name, deps.clock());
    if (throttled) throw throttled;
    if (fault.brokenBody) call.brokenBody = fault.brokenBody;
    await operation.run(deps, call);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    sendJson(res, err.status, err.body(), err.headers);
  }
  return true;
}

/** False for a missing, unknown or expired token; throws the tenant and permission errors. */
function authorize(deps: ActivityApiDeps, req: IncomingMessage, urlTenant: string): boolean {
  const header = req.headers.authorization ?? '';
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  const grant = token ? deps.tokens.lookup(token, deps.clock()) : undefined;
  if (!grant || grant === 'expired') return false;
  if (!GUID.test(urlTenant)) throw apiErrors.tenantNotGuid(urlTenant);
  if (urlTenant.toLowerCase() !== grant.tenantId.toLowerCase()) throw apiErrors.tenantMismatch(urlTenant, grant.tenantId);
  if (!grant.roles.includes('ActivityFeed.Read')) throw apiErrors.missingPermission(grant.roles.join(','));
  return true;
}

/** What ASP.NET answers an unauthenticated call; the challenge says why. */
function unauthorized(res: ServerResponse, expired: boolean): void {
  const reason = expired ? 'The access token has expired.' : 'The access token is missing or invalid.';
  sendJson(res, 401, { Message: 'Authorization has been denied for this request.' }, { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${reason}"` });
}

function requireContentType(query: CaseInsensitiveQuery): ContentType {
  const value = query.get('contentType');
  if (value === undefined || value === '') throw apiErrors.missingParameter('contentType');
  // The service matches content types case-insensitively; answer with the canonical spelling.
  const canonical = CONTENT_TYPES.find((ct) => ct.toLowerCase() === value.toLowerCase());
  if (!canonical) throw apiErrors.invalidContentType();
  return canonical;
}

async function startSubscription(deps: ActivityApiDeps, call: Call): Promise<void> {
  const contentType = requireContentType(call.query);
  const webhook = parseWebhook(await readBody(call.req));
  const throttled = deps.startThrottle.check(contentType, call.publisherId, deps.clock());
  if (throttled) throw throttled;
  sendJson(call.res, 200, deps.subscriptions.start(contentType, webhook));
}

function parseWebhook(body: string): Webhook | null {
  if (body.trim() === '') return null;
  let parsed: { webhook?: Partial<Webhook> };
  try {
    parsed = JSON.parse(body) as { webhook?: Partial<Webhook> };
  } catch {
    throw apiErrors.invalidParameterType('body', 'JSON');
  }
  const hook = parsed.webhook;
  if (!hook) return null;
  if (!hook.address) throw apiErrors.missingParameter('webhook.address');
  if (hook.expiration && Date.parse(hook.expiration) < Date.now()) {
    throw new ApiError(400, 'AF20003', `Expiration ${hook.expiration} provided is set to past date and time.`);
  }
  // Webhooks are stored and listed but never called: the emulator makes no outbound requests.
  return { address: hook.address, authId: hook.authId ?? '', expiration: hook.expiration ?? '' };
}

function stopSubscription(deps: ActivityApiDeps, call: Call): void {
  deps.subscriptions.stop(requireContentType(call.query));
  call.res.writeHead(200, { 'Content-Length': 0 }).end();
}

function listSubscriptions(deps: ActivityApiDeps, call: Call): void {
  sendJson(call.res, 200, deps.subscriptions.list());
}

const NEXT_PAGE_HEADERS = ['NextPageUri', 'NextPageUrl', 'nextpageuri', 'NEXTPAGEURL'];
let pagesServed = 0;

function listContent(deps: ActivityApiDeps, call: Call): void {
  const contentType = requireContentType(call.query);
  deps.subscriptions.requireEnabled(contentType);
  const now = deps.clock();
  const window = resolveWindow(call.query.get('startTime'), call.query.get('endTime'), now);
  const nextPage = call.query.get('nextPage');
  const cursor = nextPage === undefined ? undefined : parseCursor(nextPage, window);
  const all = deps.catalogue.list(contentType, window.startMs, window.endMs, now);
  const remaining = cursor ? all.filter((b) => b.createdMs > cursor.createdMs || (b.createdMs === cursor.createdMs && b.seq > cursor.seq)) : all;
  const page = remaining.slice(0, deps.pageSize);
  const headers: Record<string, string> = {};
  const last = page[page.length - 1];
  if (remaining.length > page.length && last) {
    // The header's name varies (the guide says NextPageUrl, the reference NextPageUri) and so does
    // its case: clients must look for both, case-insensitively.
    const name = NEXT_PAGE_HEADERS[pagesServed++ % NEXT_PAGE_HEADERS.length] as string;
    headers[name] = nextPageUrl(deps, call, `${last.createdMs}${String(last.seq).padStart(10, '0')}`);
  }
  sendJson(
    call.res,
    200,
    page.map((b) => contentItem(deps, b)),
    headers,
  );
}

function contentItem(deps: ActivityApiDeps, blob: BlobDescriptor): Record<string, string> {
  return {
    contentUri: `${deps.baseUrl()}/api/v1.0/${deps.tenantId}/activity/feed/audit/${blob.contentId}`,
    contentId: blob.contentId,
    contentType: blob.contentType,
    contentCreated: new Date(blob.createdMs).toISOString(),
    contentExpiration: new Date(blob.expiresMs).toISOString(),
  };
}

/** The next page's full URL: the same query (window, PublisherIdentifier) with nextPage added. */
function nextPageUrl(deps: ActivityApiDeps, call: Call, token: string): string {
  const url = new URL(call.req.url ?? '/', deps.baseUrl());
  for (const key of [...url.searchParams.keys()]) if (key.toLowerCase() === 'nextpage') url.searchParams.delete(key);
  url.searchParams.set('nextPage', token);
  return url.toString();
}

/** A nextPage token is the last item's contentCreated (13 digits of ms) and sequence (10 digits). */
function parseCursor(token: string, window: { startMs: number; endMs: number }): { createdMs: number; seq: number } {
  const m = /^(\d{13})(\d{10})$/.exec(token);
  const createdMs = m ? Number(m[1]) : Number.NaN;
  if (!m || createdMs < window.startMs || createdMs >= window.endMs) throw apiErrors.invalidNextPage(token);
  return { createdMs, seq: Number(m[2]) };
}

function listNotifications(deps: ActivityApiDeps, call: Call): void {
  const contentType = requireContentType(call.query);
  deps.subscriptions.requireEnabled(contentType);
  resolveWindow(call.query.get('startTime'), call.query.get('endTime'), deps.clock());
  // No webhook is ever called, so there is no delivery history to report.
  sendJson(call.res, 200, []);
}

function getBlob(deps: ActivityApiDeps, call: Call): void {
  const id = call.contentId as string;
  if (!CONTENT_ID_SHAPE.test(id)) throw apiErrors.contentIdInvalid(id);
  const blob = deps.catalogue.find(id);
  const now = deps.clock();
  if (!blob || blob.visibleMs > now) throw apiErrors.contentMissing(id);
  if (blob.expiresMs <= now) throw apiErrors.contentExpired(id);
  if (call.brokenBody) sendBroken(call.res, deps.catalogue.records(blob), call.brokenBody);
  else sendJson(call.res, 200, deps.catalogue.records(blob));
}

const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

function dlpSensitiveTypes(_deps: ActivityApiDeps, call: Call): void {
  const header = call.req.headers['accept-language'];
  const language = (Array.isArray(header) ? header.join(',') : (header ?? 'en-US')).trim();
  if (language.includes(',')) throw apiErrors.oneLanguageOnly();
  if (!LANGUAGE_TAG.test(language)) throw apiErrors.badLanguage();
  sendJson(call.res, 200, SENSITIVE_TYPES, { 'Content-Language': language });
}

/** ASP.NET binds query parameters case-insensitively; so does the emulator. */
class CaseInsensitiveQuery {
  readonly #values = new Map<string, string>();
  constructor(search: URLSearchParams) {
    for (const [key, value] of search) if (!this.#values.has(key.toLowerCase())) this.#values.set(key.toLowerCase(), value);
  }
  get(name: string): string | undefined {
    return this.#values.get(name.toLowerCase());
  }
}
