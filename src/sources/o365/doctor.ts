import { StreamConfigError } from '../../core/source.ts';
import { formatDuration } from '../../core/time.ts';
import type { DoctorDeps } from '../entry.ts';
import { listContentPage, nextPageUri, parseContentPage } from './client/list-content.ts';
import { listNotifications, parseNotifications } from './client/list-notifications.ts';
import { listSubscriptions, parseSubscriptions, type SubscriptionInfo } from './client/list-subscriptions.ts';
import { startSubscription } from './client/start-subscription.ts';
import { feedUrl, type TenantClient } from './client/tenant-client.ts';
import { type ContentType, type O365TenantConfig, resolvedUrls } from './config.ts';
import { classifyApiResponse, type O365Verdict, serverTime } from './errors.ts';
import type { RawResponse } from './http.ts';
import { restoreState } from './state.ts';
import { createTenantClient } from './tenant.ts';
import { o365StreamId } from './stream.ts';
import { startWhenAllowed } from './subscriptions.ts';
import { type Finding, finding, skipped } from '../checks.ts';

/**
 * The troubleshooting guide as checks, per Office 365 tenant. `probeO365` does the I/O (the same
 * client operations the daemon uses, one attempt each, no retries: a doctor reports what it sees);
 * `o365Findings` turns what it saw into findings and is pure, so it is tested on canned answers.
 */

/** One HTTP exchange: the answer or the network error, and when it was sent and received (local clock). */
export interface Exchange {
  operation: string;
  res?: RawResponse;
  error?: string;
  sentMs: number;
  receivedMs: number;
}

export type StartAttempt =
  | { kind: 'sent'; exchange: Exchange }
  /** The last start is too recent (the API allows about one per 15 minutes per content type). */
  | { kind: 'wait'; lastAttemptAgoMs: number; waitMs: number }
  /** --fix could not record the attempt in the state folder (a running daemon holds it). */
  | { kind: 'state-unavailable'; reason: string };

export interface ContentTypeProbe {
  start?: StartAttempt;
  content?: Exchange;
  notifications?: Exchange;
}

export interface O365Probe {
  target: string;
  tenantId: string;
  credential: 'secret' | 'certificate';
  loginUrl: string;
  apiUrl: string;
  publisherIdentifier: string;
  publisherConfigured: boolean;
  contentTypes: ContentType[];
  fix: boolean;
  token: { ok: true } | { ok: false; message: string; hint?: string };
  list?: Exchange;
  perType: Partial<Record<ContentType, ContentTypeProbe>>;
}

/** Warn above this clock difference with Microsoft, fail above FAIL: windows are computed from our clock. */
export const SKEW_WARN_MS = 2 * 60_000;
export const SKEW_FAIL_MS = 5 * 60_000;
const SHARED_POOL = /PublisherId=0{8}-0{4}-0{4}-0{4}-0{12}/i;
const NTP_HINT = 'synchronise the host clock with NTP (e.g. `timedatectl set-ntp true`, chrony); listing windows are computed from it and a skewed clock draws AF20055';

const API_CHECKS = ['o365.tenant', 'o365.permissions', 'o365.audit-logging', 'o365.clock', 'o365.publisher'];

export function o365Findings(p: O365Probe): Finding[] {
  const t = p.target;
  const out: Finding[] = [tokenFinding(p)];
  if (!p.token.ok || !p.list) {
    out.push(...skipped([...API_CHECKS, 'o365.subscription', 'o365.content'], t, 'no access token'));
    return out;
  }
  const access = accessFindings(p, p.list);
  out.push(...access.findings, clockFinding(t, allExchanges(p)), publisherFinding(p));
  if (!access.usable) {
    out.push(...skipped(['o365.subscription', 'o365.content'], t, 'the API refused the tenant'));
    return out;
  }
  const subscriptions = parseSubscriptions(p.list.res!.body);
  const enabled = new Set<ContentType>();
  for (const ct of p.contentTypes) {
    const f = subscriptionFinding(p, ct, subscriptions.find((s) => s.contentType.toLowerCase() === ct.toLowerCase()));
    out.push(f);
    if (f.result === 'ok') enabled.add(ct);
  }
  for (const ct of p.contentTypes) {
    const target = `${t}/${ct}`;
    out.push(enabled.has(ct) ? contentFinding(target, p.perType[ct]?.content) : finding('o365.content', target, 'skip', 'not checked: the subscription is not enabled'));
  }
  out.push(...webhookFindings(p, subscriptions));
  return out;
}

function tokenFinding(p: O365Probe): Finding {
  const what = p.credential === 'secret' ? 'client secret' : 'certificate';
  if (p.token.ok) return finding('o365.token', p.target, 'ok', `${what} accepted by ${p.loginUrl}; token for ${p.apiUrl}`);
  return finding(
    'o365.token',
    p.target,
    'fail',
    `${what} refused or login unreachable: ${p.token.message}`,
    p.token.hint ?? `could not reach ${p.loginUrl}: check loginUrl/cloud, the network path (proxy, firewall) and tls.ca`,
  );
}

function verdictOf(ex: Exchange): O365Verdict | undefined {
  return ex.res ? classifyApiResponse(ex.res, ex.receivedMs) : undefined;
}

function describeAnswer(ex: Exchange): string {
  if (!ex.res) return `no answer (${ex.error ?? 'network error'})`;
  const v = verdictOf(ex)!;
  const code = 'code' in v && v.code ? v.code : 'reason' in v ? v.reason : `HTTP ${ex.res.status}`;
  const message = 'message' in v && v.message ? `: ${v.message}` : '';
  return `${code}${message}`.slice(0, 300);
}

/** Tenant id (AF20010/AF20013), permissions (AF10001) and unified audit logging (AF20011) from subscriptions/list. */
function accessFindings(p: O365Probe, list: Exchange): { findings: Finding[]; usable: boolean } {
  const t = p.target;
  const v = verdictOf(list);
  const tenantOk = finding('o365.tenant', t, 'ok', `tenant ${p.tenantId} matches the token (no AF20010/AF20013)`);
  if (!v) {
    return {
      usable: false,
      findings: [
        finding('o365.api', t, 'fail', `subscriptions/list: ${describeAnswer(list)}`, `cannot reach ${p.apiUrl}: check apiUrl/cloud, the network path (proxy, firewall) and tls.ca`),
        ...skipped(['o365.tenant', 'o365.permissions', 'o365.audit-logging'], t, 'the API did not answer'),
      ],
    };
  }
  if (v.kind === 'ok') {
    return {
      usable: true,
      findings: [
        tenantOk,
        finding('o365.permissions', t, 'ok', 'subscriptions/list answered: ActivityFeed.Read granted'),
        finding('o365.audit-logging', t, 'ok', 'the tenant is known to the API (no AF20011): unified audit logging is on'),
      ],
    };
  }
  const answer = `subscriptions/list: ${describeAnswer(list)}`;
  if (v.kind === 'config' && (v.code === 'AF20010' || v.code === 'AF20013')) {
    return { usable: false, findings: [finding('o365.tenant', t, 'fail', answer, v.hint), ...skipped(['o365.permissions', 'o365.audit-logging'], t, 'tenant refused')] };
  }
  if (v.kind === 'config' && v.code === 'AF20011') {
    return {
      usable: false,
      findings: [tenantOk, finding('o365.permissions', t, 'skip', 'not checked: the API refused the tenant first (AF20011)'), finding('o365.audit-logging', t, 'fail', answer, v.hint)],
    };
  }
  if (v.kind === 'config' || v.kind === 'auth-expired') {
    const hint =
      v.kind === 'config'
        ? v.hint
        : 'the API refused a fresh token (401): grant the app the Office 365 Management APIs ActivityFeed.Read application permission with admin consent, and check the cloud (token audience)';
    return { usable: false, findings: [tenantOk, finding('o365.permissions', t, 'fail', answer, hint), ...skipped(['o365.audit-logging'], t, 'permission refused')] };
  }
  if (v.kind === 'throttled') {
    return { usable: false, findings: skipped(['o365.tenant', 'o365.permissions', 'o365.audit-logging'], t, `throttled (${v.reason}): see o365.publisher`) };
  }
  return {
    usable: false,
    findings: [
      finding('o365.api', t, 'fail', answer, 'the API is failing (5xx/408) or answered something unexpected: try again later; if it persists, check the Microsoft 365 service health'),
      ...skipped(['o365.tenant', 'o365.permissions', 'o365.audit-logging'], t, 'the API did not answer normally'),
    ],
  };
}

/** Local clock against Microsoft's `Date` header, from the first answer that has one. */
export function clockFinding(target: string, exchanges: Exchange[]): Finding {
  for (const ex of exchanges) {
    const server = ex.res ? serverTime(ex.res) : undefined;
    if (server === undefined) continue;
    // The Date header has 1 s resolution and was stamped somewhere between send and receipt.
    const local = (ex.sentMs + ex.receivedMs) / 2;
    const skew = server - local;
    const abs = Math.abs(skew);
    const detail = abs < 1500 ? 'within a second of Microsoft\'s (Date header)' : `local clock is ${formatDuration(abs)} ${skew < 0 ? 'ahead of' : 'behind'} Microsoft's (Date header)`;
    if (abs > SKEW_FAIL_MS) return finding('o365.clock', target, 'fail', detail, NTP_HINT);
    if (abs > SKEW_WARN_MS) return finding('o365.clock', target, 'warn', detail, NTP_HINT);
    return finding('o365.clock', target, 'ok', detail);
  }
  return finding('o365.clock', target, 'warn', 'no answer carried a Date header: clock skew not checked', 'check the host clock by hand (NTP)');
}

function allExchanges(p: O365Probe): Exchange[] {
  const out: Exchange[] = p.list ? [p.list] : [];
  for (const ct of p.contentTypes) {
    const pt = p.perType[ct];
    if (pt?.start?.kind === 'sent') out.push(pt.start.exchange);
    if (pt?.content) out.push(pt.content);
    if (pt?.notifications) out.push(pt.notifications);
  }
  return out;
}

/** PublisherIdentifier is sent, and no call was throttled (AF429 as 403 or 429), least of all in the shared pool. */
function publisherFinding(p: O365Probe): Finding {
  const sent = `PublisherIdentifier=${p.publisherIdentifier} on every call (${p.publisherConfigured ? 'configured' : 'the tenant id, by default'})`;
  for (const ex of allExchanges(p)) {
    const v = verdictOf(ex);
    if (v?.kind !== 'throttled') continue;
    const answer = `${ex.operation}: ${describeAnswer(ex)}`;
    if (SHARED_POOL.test(ex.res?.body ?? '')) {
      return finding(
        'o365.publisher',
        p.target,
        'fail',
        `${answer} — throttled in the shared pool although ${sent}`,
        'the API did not see our PublisherIdentifier: check that publisherIdentifier is a GUID (your tenant id, or an ISV\'s own tenant id) and that no proxy strips query parameters',
      );
    }
    return finding(
      'o365.publisher',
      p.target,
      'warn',
      `${answer} — ${sent}`,
      'the tenant\'s request budget is used up: lower requestsPerMinute, and make sure other tools using this PublisherIdentifier are not draining the same pool; the daemon backs off and catches up',
    );
  }
  return finding('o365.publisher', p.target, 'ok', `${sent}; no call throttled`);
}

function subscriptionFinding(p: O365Probe, ct: ContentType, sub: SubscriptionInfo | undefined): Finding {
  const target = `${p.target}/${ct}`;
  if (sub?.status === 'enabled') return finding('o365.subscription', target, 'ok', 'enabled');
  const was = sub ? `disabled (status ${sub.status}: stopped, or disabled by an admin)` : 'no subscription';
  const notCollected = `${was}: ${ct} is NOT being collected`;
  const start = p.perType[ct]?.start;
  if (!p.fix || !start) {
    return finding(
      'o365.subscription',
      target,
      'fail',
      notCollected,
      `run \`auditrelay doctor --fix\` to start it (one start per content type per 15 minutes), or let \`auditrelay run\` start it on its next poll${sub ? '; find out who disabled it, content of the disabled period is lost' : ''}`,
    );
  }
  if (start.kind === 'wait') {
    return finding(
      'o365.subscription',
      target,
      'fail',
      `${notCollected}; not started: the last start attempt was ${formatDuration(start.lastAttemptAgoMs)} ago`,
      `the API allows about one start per content type per 15 minutes: run \`auditrelay doctor --fix\` again in ${formatDuration(start.waitMs)}`,
    );
  }
  if (start.kind === 'state-unavailable') {
    return finding('o365.subscription', target, 'fail', `${notCollected}; not started: ${start.reason}`, 'a running daemon starts missing subscriptions itself within 15 minutes; otherwise stop it and run `auditrelay doctor --fix`');
  }
  const v = verdictOf(start.exchange);
  if (v?.kind === 'ok' || (v?.kind === 'other' && v.meaning === 'already-enabled')) {
    return finding('o365.subscription', target, 'ok', `${was}; started by --fix (the first content can take up to 12 hours to appear)`);
  }
  const hint =
    v?.kind === 'throttled'
      ? 'subscriptions/start is throttled to about one call per 15 minutes per content type: run `auditrelay doctor --fix` again after that'
      : v?.kind === 'config'
        ? v.hint
        : 'start failed: try `auditrelay doctor --fix` again later';
  return finding('o365.subscription', target, 'fail', `${notCollected}; subscriptions/start: ${describeAnswer(start.exchange)}`, hint);
}

/** Content listed in the last 24 hours (the API's default window): proves the feed produces. */
export function contentFinding(target: string, ex: Exchange | undefined): Finding {
  if (!ex) return finding('o365.content', target, 'skip', 'not checked');
  const v = verdictOf(ex);
  if (v?.kind === 'ok') {
    let count: number;
    try {
      count = parseContentPage(ex.res!.body).length;
    } catch (err) {
      return finding('o365.content', target, 'fail', `malformed listing: ${(err as Error).message}`, 'the API answered something the daemon cannot read: report it with this output');
    }
    const more = nextPageUri(ex.res!.headers) ? ' (first page; more follow)' : '';
    if (count > 0) return finding('o365.content', target, 'ok', `${count} content blob${count === 1 ? '' : 's'} listed in the last 24 hours${more}`);
    return finding(
      'o365.content',
      target,
      'warn',
      'no content in the last 24 hours',
      'a quiet workload may have none; a subscription started in the last 12 hours may not show content yet; otherwise check in Microsoft Purview that auditing records this workload',
    );
  }
  const answer = `subscriptions/content: ${describeAnswer(ex)}`;
  if (!v) return finding('o365.content', target, 'fail', answer, 'the API did not answer: check the network path and try again');
  if (v.kind === 'other' && v.meaning === 'bad-window') return finding('o365.content', target, 'fail', answer, NTP_HINT);
  if (v.kind === 'config') return finding('o365.content', target, 'fail', answer, v.hint);
  if (v.kind === 'throttled') return finding('o365.content', target, 'warn', answer, 'throttled: see o365.publisher');
  if (v.kind === 'other' && (v.meaning === 'no-subscription' || v.meaning === 'subscription-disabled')) {
    return finding('o365.content', target, 'fail', answer, 'the subscription is not enabled: see o365.subscription');
  }
  return finding('o365.content', target, 'fail', answer, 'the API refused the listing: try again later');
}

interface WebhookView {
  address?: string;
  status?: string;
}

/** Webhook delivery failures (subscriptions/notifications), for subscriptions that have a webhook. auditrelay itself polls. */
function webhookFindings(p: O365Probe, subscriptions: SubscriptionInfo[]): Finding[] {
  const out: Finding[] = [];
  for (const ct of p.contentTypes) {
    const sub = subscriptions.find((s) => s.contentType.toLowerCase() === ct.toLowerCase());
    if (!sub?.webhook || typeof sub.webhook !== 'object') continue;
    const hook = sub.webhook as WebhookView;
    const target = `${p.target}/${ct}`;
    const where = `webhook ${hook.address ?? '(no address)'}`;
    const fix = `the ${where} is failing: it must answer 200 at once to validation and notification POSTs (check firewalls); auditrelay polls and is not affected`;
    if (hook.status && hook.status.toLowerCase() !== 'enabled') {
      out.push(finding('o365.webhook', target, 'warn', `${where} has status ${hook.status} (the API disables a webhook that keeps failing)`, fix));
      continue;
    }
    const ex = p.perType[ct]?.notifications;
    const v = ex ? verdictOf(ex) : undefined;
    if (!ex || v?.kind !== 'ok') {
      out.push(finding('o365.webhook', target, 'warn', `${where}: notifications not readable (${ex ? describeAnswer(ex) : 'not asked'})`, 'check the webhook by hand: GET subscriptions/notifications'));
      continue;
    }
    let failed: number;
    let total: number;
    try {
      const list = parseNotifications(ex.res!.body);
      total = list.length;
      failed = list.filter((n) => !/^succe/i.test(n.notificationStatus)).length;
    } catch (err) {
      out.push(finding('o365.webhook', target, 'warn', `${where}: ${(err as Error).message}`, 'check the webhook by hand: GET subscriptions/notifications'));
      continue;
    }
    if (failed > 0) out.push(finding('o365.webhook', target, 'warn', `${where}: ${failed} of ${total} notifications in the last 24 hours failed`, fix));
    else out.push(finding('o365.webhook', target, 'ok', `${where}: ${total} notifications in the last 24 hours, none failed`));
  }
  if (out.length === 0) out.push(finding('o365.webhook', p.target, 'ok', 'no webhook on any subscription: auditrelay polls, nothing to check'));
  return out;
}

// ---------------------------------------------------------------------------------------------
// I/O: one attempt per operation, through the daemon's own client operations.

export interface O365ProbeOptions {
  fix: boolean;
  /**
   * A stream's state, fenced like the daemon's commits, to honour (and record) the one start per 15
   * minutes; a string says why it is unavailable (a running daemon holds it).
   */
  claim?: DoctorDeps['claim'];
  now?: () => number;
  signal?: AbortSignal;
}

export async function probeO365(tenant: O365TenantConfig, options: O365ProbeOptions): Promise<O365Probe> {
  const now = options.now ?? Date.now;
  const urls = resolvedUrls(tenant);
  const client = createTenantClient(tenant);
  const dispatcher = client.dispatcher;
  const probe: O365Probe = {
    target: `o365:${tenant.name ?? tenant.tenantId}`,
    tenantId: tenant.tenantId,
    credential: tenant.clientSecret ? 'secret' : 'certificate',
    loginUrl: urls.loginUrl,
    apiUrl: urls.apiUrl,
    publisherIdentifier: client.publisherIdentifier,
    publisherConfigured: tenant.publisherIdentifier !== undefined,
    contentTypes: tenant.contentTypes,
    fix: options.fix,
    token: { ok: true },
    perType: {},
  };
  const exchange = async (operation: string, send: () => Promise<RawResponse>): Promise<Exchange> => {
    const sentMs = now();
    try {
      const res = await send();
      return { operation, res, sentMs, receivedMs: now() };
    } catch (err) {
      return { operation, error: describeError(err), sentMs, receivedMs: now() };
    }
  };
  try {
    let token: string;
    try {
      token = await client.tokens.token();
    } catch (err) {
      probe.token = { ok: false, message: (err as Error).message, ...(err instanceof StreamConfigError ? { hint: err.hint } : {}) };
      return probe;
    }
    const signal = options.signal;
    probe.list = await exchange('subscriptions/list', () => listSubscriptions(client, token, signal));
    if (probe.list.res === undefined || classifyApiResponse(probe.list.res, now()).kind !== 'ok') return probe;
    let subscriptions: SubscriptionInfo[];
    try {
      subscriptions = parseSubscriptions(probe.list.res.body);
    } catch (err) {
      probe.list = { ...probe.list, res: { ...probe.list.res, status: 502, body: `unreadable subscriptions/list: ${(err as Error).message}` } };
      return probe;
    }
    for (const ct of tenant.contentTypes) {
      const sub = subscriptions.find((s) => s.contentType.toLowerCase() === ct.toLowerCase());
      const pt: ContentTypeProbe = {};
      probe.perType[ct] = pt;
      let enabled = sub?.status === 'enabled';
      if (!enabled && options.fix) {
        pt.start = await startWithRule(client, token, ct, options.claim, now, exchange, signal);
        const v = pt.start.kind === 'sent' && pt.start.exchange.res ? classifyApiResponse(pt.start.exchange.res, now()) : undefined;
        enabled = v?.kind === 'ok' || (v?.kind === 'other' && v.meaning === 'already-enabled');
      }
      // Neither time: the API's own "last 24 hours" on its own clock, as in the troubleshooting guide.
      if (enabled) pt.content = await exchange('subscriptions/content', () => listContentPage(client, token, feedUrl(client, 'subscriptions/content', { contentType: ct }), signal));
      if (sub?.webhook) pt.notifications = await exchange('subscriptions/notifications', () => listNotifications(client, token, ct, signal));
    }
    return probe;
  } finally {
    await dispatcher.close();
  }
}

/** `--fix`: the stream's own start rule, on its own state, while holding the stream's lease. */
async function startWithRule(
  client: TenantClient,
  token: string,
  ct: ContentType,
  claim: DoctorDeps['claim'] | undefined,
  now: () => number,
  exchange: (operation: string, send: () => Promise<RawResponse>) => Promise<Exchange>,
  signal: AbortSignal | undefined,
): Promise<StartAttempt> {
  const claimed = claim ? await claim(o365StreamId(client.tenantId, ct)) : 'no state store';
  if (typeof claimed === 'string') return { kind: 'state-unavailable', reason: claimed };
  try {
    const state = restoreState(await claimed.state.load());
    let answered = false;
    const attempt = await startWhenAllowed(
      state.lastStartAttempt,
      now(),
      async () => {
        const sent = await exchange('subscriptions/start', () => startSubscription(client, token, ct, signal));
        answered = sent.res !== undefined;
        return sent;
      },
      // As the daemon does: remembered once the API answered (a start that never reached it is no attempt).
      async (attemptAt) => {
        if (answered) await claimed.state.commit({ ...state, lastStartAttempt: attemptAt });
      },
    );
    if (attempt.kind === 'wait') return { kind: 'wait', lastAttemptAgoMs: now() - (state.lastStartAttempt ?? now()), waitMs: attempt.ms };
    return { kind: 'sent', exchange: attempt.answer };
  } finally {
    await claimed.release();
  }
}

export function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return String(e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? err);
}

/** Every tenant, one after another, so the output reads in config order and no API sees a burst. */
export async function checkO365(tenants: O365TenantConfig[], deps: DoctorDeps): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const tenant of tenants) findings.push(...o365Findings(await probeO365(tenant, { fix: deps.fix, claim: deps.claim, signal: deps.signal })));
  return findings;
}
