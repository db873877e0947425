import { describe, expect, it } from 'vitest';
import { exportFinding } from '../../src/doctor/export.ts';
import { type GoogleProbe, googleFindings } from '../../src/sources/google/doctor.ts';
import { type Exchange, type O365Probe, o365Findings } from '../../src/sources/o365/doctor.ts';
import { type Finding, exitCodeOf, renderTable, toJson } from '../../src/doctor/report.ts';
import type { ApiFailure } from '../../src/sources/google/errors.ts';
import { CONTENT_TYPES } from '../../src/sources/o365/config.ts';

const NOW = Date.parse('2026-11-22T10:00:00Z');
const TENANT = '8d3645f2-5430-470b-9913-367bb86c93bb';

function answer(operation: string, status: number, body: unknown, headers: Record<string, string> = {}, localMs = NOW): Exchange {
  return {
    operation,
    res: { status, headers: { date: new Date(NOW).toUTCString(), ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) },
    sentMs: localMs - 50,
    receivedMs: localMs + 50,
  };
}
const apiError = (operation: string, status: number, code: string, message = 'canned') => answer(operation, status, { error: { code, message } });
const allEnabled = CONTENT_TYPES.map((contentType) => ({ contentType, status: 'enabled', webhook: null }));
const blob = { contentId: 'x', contentUri: 'https://h/x', contentCreated: '2026-11-22T09:00:00.000Z', contentExpiration: '2026-11-29T09:00:00.000Z' };

function probe(over: Partial<O365Probe> = {}): O365Probe {
  return {
    target: 'o365:t',
    tenantId: TENANT,
    credential: 'secret',
    loginUrl: 'https://login',
    apiUrl: 'https://api',
    publisherIdentifier: TENANT,
    publisherConfigured: false,
    contentTypes: ['Audit.Exchange'],
    fix: false,
    token: { ok: true },
    list: answer('subscriptions/list', 200, allEnabled),
    perType: { 'Audit.Exchange': { content: answer('subscriptions/content', 200, [blob]) } },
    ...over,
  };
}

const one = (findings: Finding[], check: string, target?: string) => {
  const f = findings.find((x) => x.check === check && (target === undefined || x.target === target));
  if (!f) throw new Error(`no ${check} finding in ${JSON.stringify(findings)}`);
  return f;
};

describe('Office 365 checks on canned answers', () => {
  it('all well: every check ok, exit 0', () => {
    const findings = o365Findings(probe());
    expect(findings.filter((f) => f.result !== 'ok')).toEqual([]);
    expect(one(findings, 'o365.content').detail).toContain('1 content blob');
    expect(exitCodeOf(findings)).toBe(0);
  });

  it('token refused: the AADSTS hint is the fix, the rest is not checked', () => {
    const hint = 'the client secret is wrong or expired: create a new secret for the app registration and update the config';
    const findings = o365Findings(probe({ token: { ok: false, message: 'Entra refused the token request: AADSTS7000215: Invalid client secret', hint }, list: undefined }));
    expect(one(findings, 'o365.token')).toMatchObject({ result: 'fail', fix: hint });
    expect(findings.filter((f) => f.check !== 'o365.token').every((f) => f.result === 'skip')).toBe(true);
  });

  it('AF10001: the permission fails with the ActivityFeed.Read hint', () => {
    const findings = o365Findings(probe({ list: apiError('subscriptions/list', 403, 'AF10001') }));
    expect(one(findings, 'o365.permissions')).toMatchObject({ result: 'fail' });
    expect(one(findings, 'o365.permissions').fix).toContain('ActivityFeed.Read');
    expect(one(findings, 'o365.tenant').result).toBe('ok');
  });

  it('AF20010 and AF20013: the tenant id fails', () => {
    for (const code of ['AF20010', 'AF20013']) {
      const findings = o365Findings(probe({ list: apiError('subscriptions/list', code === 'AF20010' ? 403 : 400, code) }));
      expect(one(findings, 'o365.tenant').result).toBe('fail');
      expect(one(findings, 'o365.tenant').fix).toMatch(/tenant/);
    }
  });

  it('AF20011: audit logging fails with the Purview hint', () => {
    const findings = o365Findings(probe({ list: apiError('subscriptions/list', 400, 'AF20011') }));
    expect(one(findings, 'o365.audit-logging')).toMatchObject({ result: 'fail' });
    expect(one(findings, 'o365.audit-logging').fix).toContain('Purview');
  });

  it('clock skew from the Date header: ok under 2 min, warn over 2, fail over 5', () => {
    const skewed = (ms: number) => o365Findings(probe({ list: answer('subscriptions/list', 200, allEnabled, {}, NOW + ms) }));
    expect(one(skewed(30_000), 'o365.clock').result).toBe('ok');
    expect(one(skewed(3 * 60_000), 'o365.clock')).toMatchObject({ result: 'warn' });
    const fail = one(skewed(2 * 3_600_000), 'o365.clock');
    expect(fail).toMatchObject({ result: 'fail' });
    expect(fail.detail).toContain('ahead of');
    expect(fail.fix).toContain('NTP');
  });

  it('a missing subscription fails and points at --fix; with --fix a successful start is ok', () => {
    const list = answer('subscriptions/list', 200, []);
    const without = o365Findings(probe({ list, perType: {} }));
    expect(one(without, 'o365.subscription')).toMatchObject({ result: 'fail' });
    expect(one(without, 'o365.subscription').fix).toContain('--fix');
    expect(one(without, 'o365.content').result).toBe('skip');
    const started = o365Findings(
      probe({ list, fix: true, perType: { 'Audit.Exchange': { start: { kind: 'sent', exchange: answer('subscriptions/start', 200, {}) }, content: answer('subscriptions/content', 200, []) } } }),
    );
    expect(one(started, 'o365.subscription')).toMatchObject({ result: 'ok' });
    expect(one(started, 'o365.subscription').detail).toContain('started by --fix');
    expect(one(started, 'o365.content').result).toBe('warn');
  });

  it('--fix honours one start per 15 minutes: a recent attempt or a throttled start fails with when to retry', () => {
    const list = answer('subscriptions/list', 200, [{ contentType: 'Audit.Exchange', status: 'disabled', webhook: null }]);
    const wait = o365Findings(probe({ list, fix: true, perType: { 'Audit.Exchange': { start: { kind: 'wait', lastAttemptAgoMs: 5 * 60_000, waitMs: 10 * 60_000 } } } }));
    expect(one(wait, 'o365.subscription')).toMatchObject({ result: 'fail' });
    expect(one(wait, 'o365.subscription').fix).toContain('10.0m');
    const throttled = apiError('subscriptions/start', 429, 'AF429', 'Too many requests. Method=StartSubscription, retry after 14m 56s');
    const refused = o365Findings(probe({ list, fix: true, perType: { 'Audit.Exchange': { start: { kind: 'sent', exchange: throttled } } } }));
    expect(one(refused, 'o365.subscription').fix).toContain('15 minutes');
  });

  it('content: AF20055 is a clock problem; an empty day is a warning', () => {
    const bad = o365Findings(probe({ perType: { 'Audit.Exchange': { content: apiError('subscriptions/content', 400, 'AF20055') } } }));
    expect(one(bad, 'o365.content')).toMatchObject({ result: 'fail' });
    expect(one(bad, 'o365.content').fix).toContain('NTP');
    const empty = o365Findings(probe({ perType: { 'Audit.Exchange': { content: answer('subscriptions/content', 200, []) } } }));
    expect(one(empty, 'o365.content')).toMatchObject({ result: 'warn' });
  });

  it('AF429 in the shared pool fails the PublisherIdentifier check; in our own pool it warns', () => {
    const shared = apiError('subscriptions/content', 403, 'AF429', 'Too many requests. Method=ListContent, PublisherId=00000000-0000-0000-0000-000000000000');
    expect(one(o365Findings(probe({ perType: { 'Audit.Exchange': { content: shared } } })), 'o365.publisher').result).toBe('fail');
    const own = apiError('subscriptions/content', 403, 'AF429', `Too many requests. Method=ListContent, PublisherId=${TENANT}`);
    expect(one(o365Findings(probe({ perType: { 'Audit.Exchange': { content: own } } })), 'o365.publisher').result).toBe('warn');
  });

  it('webhook notification failures warn; no webhook is ok', () => {
    const webhook = { status: 'enabled', address: 'https://hook.example/o365', authId: 'a', expiration: null };
    const list = answer('subscriptions/list', 200, [{ contentType: 'Audit.Exchange', status: 'enabled', webhook }]);
    const notifications = answer('subscriptions/notifications', 200, [
      { contentId: 'a', contentCreated: '2026-11-22T09:00:00Z', notificationStatus: 'Failed', notificationSent: '2026-11-22T09:01:00Z' },
      { contentId: 'b', contentCreated: '2026-11-22T09:00:00Z', notificationStatus: 'Succeeded', notificationSent: '2026-11-22T09:01:00Z' },
    ]);
    const findings = o365Findings(probe({ list, perType: { 'Audit.Exchange': { content: answer('subscriptions/content', 200, [blob]), notifications } } }));
    expect(one(findings, 'o365.webhook')).toMatchObject({ result: 'warn' });
    expect(one(findings, 'o365.webhook').detail).toContain('1 of 2');
    expect(one(o365Findings(probe()), 'o365.webhook').result).toBe('ok');
  });
});

function failure(over: Partial<ApiFailure>): ApiFailure {
  return { reasons: [], message: '', aborted: false, ...over };
}

function gprobe(over: Partial<GoogleProbe> = {}): GoogleProbe {
  return {
    target: 'google:c',
    who: { customerId: 'C01', subject: 'admin@example.test', clientEmail: 'sa@p.iam.gserviceaccount.com', clientId: '1234', projectId: 'p' },
    key: { ok: true },
    token: { ok: true },
    apps: [{ name: 'drive', userKey: 'all', result: { ok: true, items: 1 } }],
    budget: { requestsPerMinute: 2400, pollingPerMinute: 100, projectRequestsPerMinute: 2400 },
    now: NOW,
    ...over,
  };
}

describe('Google checks on canned answers', () => {
  it('all well', () => {
    expect(googleFindings(gprobe()).filter((f) => f.result !== 'ok')).toEqual([]);
  });

  it('unauthorized_client: delegation fails with the client id and scope to grant', () => {
    const findings = googleFindings(gprobe({ token: { ok: false, failure: failure({ status: 401, oauthError: 'unauthorized_client', message: 'unauthorized_client: Client is unauthorized' }) } }));
    const f = one(findings, 'google.delegation');
    expect(f.result).toBe('fail');
    expect(f.fix).toContain('1234');
    expect(f.fix).toContain('admin.reports.audit.readonly');
  });

  it('invalid_grant outside a reasonable timeframe: the clock fails', () => {
    const findings = googleFindings(
      gprobe({ token: { ok: false, failure: failure({ status: 400, oauthError: 'invalid_grant', message: 'invalid_grant: Invalid JWT: Token must be a short-lived token and in a reasonable timeframe' }) } }),
    );
    expect(one(findings, 'google.clock')).toMatchObject({ result: 'fail' });
    expect(one(findings, 'google.clock').fix).toContain('NTP');
  });

  it('"not authorized to read activity records": the Reports privilege fails', () => {
    const refused = failure({ status: 401, message: 'Access denied. You are not authorized to read activity records.' });
    const findings = googleFindings(gprobe({ apps: [{ name: 'drive', userKey: 'all', result: { ok: false, failure: refused } }] }));
    expect(one(findings, 'google.reports-privilege')).toMatchObject({ result: 'fail' });
    expect(one(findings, 'google.reports-privilege').fix).toContain('Reports');
  });

  it('quota: a 403 rateLimitExceeded or a budget above the project quota warns', () => {
    const quota = failure({ status: 403, reasons: ['rateLimitExceeded'], message: 'Quota exceeded' });
    const throttled = googleFindings(gprobe({ apps: [{ name: 'drive', userKey: 'all', result: { ok: false, failure: quota } }] }));
    expect(one(throttled, 'google.quota').result).toBe('warn');
    const over = googleFindings(gprobe({ budget: { requestsPerMinute: 2000, pollingPerMinute: 100, projectRequestsPerMinute: 4000 } }));
    expect(one(over, 'google.quota').result).toBe('warn');
    const tight = googleFindings(gprobe({ budget: { requestsPerMinute: 50, pollingPerMinute: 100, projectRequestsPerMinute: 50 } }));
    expect(one(tight, 'google.quota').result).toBe('warn');
  });
});

describe('export endpoint', () => {
  const settings = { url: 'http://127.0.0.1:4318/v1/logs', protocol: 'http/protobuf' as const };
  it('2xx and 4xx prove reachability; auth and path errors say what to fix; network errors fail', () => {
    expect(exportFinding(settings, { kind: 'accepted' }).result).toBe('ok');
    expect(exportFinding(settings, { kind: 'bad-data', reason: 'HTTP 400: empty' }).result).toBe('ok');
    expect(exportFinding(settings, { kind: 'retry', reason: 'HTTP 401: no', misconfigured: true }).fix).toContain('headers');
    expect(exportFinding(settings, { kind: 'retry', reason: 'HTTP 404', misconfigured: true }).fix).toContain('logsPathIsFull');
    expect(exportFinding(settings, { kind: 'retry', reason: 'HTTP 503: busy' }).result).toBe('warn');
    const down = exportFinding(settings, { kind: 'retry', reason: 'ECONNREFUSED' });
    expect(down).toMatchObject({ result: 'fail' });
    expect(down.fix).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
  });
});

describe('report', () => {
  const findings: Finding[] = [
    { check: 'a', target: 't', result: 'ok', detail: 'fine' },
    { check: 'b', target: 't', result: 'warn', detail: 'hmm', fix: 'look' },
  ];
  it('exit code: 0 for ok and warn, 1 as soon as one check fails', () => {
    expect(exitCodeOf(findings)).toBe(0);
    expect(exitCodeOf([...findings, { check: 'c', target: 't', result: 'fail', detail: 'x', fix: 'y' }])).toBe(1);
    expect(exitCodeOf([{ check: 'c', target: 't', result: 'skip', detail: 'x' }])).toBe(0);
  });
  it('the table puts each fix under its row; the JSON carries everything', () => {
    const table = renderTable(findings);
    expect(table).toMatch(/b\s+t\s+WARN\s+hmm\n\s+fix: look/);
    expect(table).toContain('1 ok, 1 warn, 0 fail');
    expect(JSON.parse(toJson(findings))).toMatchObject({ result: 'warn', exitCode: 0, summary: { ok: 1, warn: 1 }, findings });
  });
});
