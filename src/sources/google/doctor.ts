import { StreamConfigError } from '../../core/source.ts';
import { createGoogleAuth, type GoogleAuth } from './auth.ts';
import { createReportsClient, listActivities } from './client/list-activities.ts';
import type { GoogleCustomerConfig } from './config.ts';
import { type ApiFailure, classify, describeFailure, type Identity } from './errors.ts';
import { scheduleOf } from './stream.ts';
import { type Finding, finding, skipped } from '../checks.ts';
import type { DoctorDeps } from '../entry.ts';

/**
 * Per Google Workspace customer: the key, domain-wide delegation (`unauthorized_client`), the clock
 * (`invalid_grant ... reasonable timeframe`), the subject's Reports privilege ("not authorized to
 * read activity records"), each configured application, and quota headroom. `probeGoogle` does
 * the I/O with the source's own auth and client; `googleFindings` is pure.
 */

/** Documented per-project quota of the Reports API (peers report about 2,600). */
export const PROJECT_QUOTA_PER_MINUTE = 2400;

export type AppResult = { ok: true; items: number } | { ok: false; failure: ApiFailure };

export interface GoogleProbe {
  target: string;
  who: Omit<Identity, 'application' | 'userKey'>;
  key: { ok: true } | { ok: false; message: string; hint: string };
  token?: { ok: true } | { ok: false; failure: ApiFailure };
  apps: { name: string; userKey: string; result: AppResult }[];
  budget: { requestsPerMinute: number; pollingPerMinute: number; projectRequestsPerMinute: number };
  now: number;
}

const AFTER_TOKEN = ['google.reports-privilege', 'google.application'];

export function googleFindings(p: GoogleProbe): Finding[] {
  const t = p.target;
  if (!p.key.ok) {
    return [finding('google.credentials', t, 'fail', p.key.message, p.key.hint), ...skipped(['google.delegation', 'google.clock', ...AFTER_TOKEN], t, 'no usable key')];
  }
  const out: Finding[] = [finding('google.credentials', t, 'ok', `service account ${p.who.clientEmail} (client id ${p.who.clientId}, project ${p.who.projectId})`)];
  const token = p.token ?? { ok: true };
  if (!token.ok) {
    out.push(...tokenFailure(p, token.failure), ...skipped(AFTER_TOKEN, t, 'no access token'), quotaFinding(p));
    return out;
  }
  out.push(
    finding('google.delegation', t, 'ok', `token issued to ${p.who.clientEmail} acting as ${p.who.subject} (domain-wide delegation granted)`),
    finding('google.clock', t, 'ok', 'Google accepted the signed token request: the clock is within its tolerance'),
  );
  out.push(privilegeFinding(p));
  for (const app of p.apps) out.push(applicationFinding(p, app));
  out.push(quotaFinding(p));
  return out;
}

function identity(p: GoogleProbe, application = '(token)', userKey = 'all'): Identity {
  return { ...p.who, application, userKey };
}

function tokenFailure(p: GoogleProbe, failure: ApiFailure): Finding[] {
  const t = p.target;
  const verdict = classify(failure, identity(p), p.now);
  const text = verdict.kind === 'config' ? verdict.message : `${failure.oauthError ?? failure.code ?? `HTTP ${failure.status ?? '?'}`}: ${failure.message}`;
  if (failure.oauthError === 'invalid_grant' && verdict.kind === 'config' && /timeframe|clock/i.test(`${verdict.message} ${verdict.hint}`)) {
    return [finding('google.delegation', t, 'skip', 'not checked: the token request was refused for the clock first'), finding('google.clock', t, 'fail', text, verdict.hint)];
  }
  const hint =
    verdict.kind === 'config'
      ? verdict.hint
      : `the token endpoint did not answer normally (${verdict.reason}): check tokenUri, the network path and tls.ca, then try again`;
  return [finding('google.delegation', t, 'fail', text, hint), finding('google.clock', t, 'skip', 'not checked: no token')];
}

const NOT_AUTHORIZED = /not authorized to read activity records/i;

function privilegeFinding(p: GoogleProbe): Finding {
  const t = p.target;
  const refused = p.apps.find((a) => !a.result.ok && NOT_AUTHORIZED.test(a.result.failure.message));
  if (refused && !refused.result.ok) {
    const verdict = classify(refused.result.failure, identity(p, refused.name, refused.userKey), p.now);
    return finding('google.reports-privilege', t, 'fail', verdict.kind === 'config' ? verdict.message : refused.result.failure.message, verdict.kind === 'config' ? verdict.hint : undefined);
  }
  if (p.apps.some((a) => a.result.ok)) return finding('google.reports-privilege', t, 'ok', `${p.who.subject} may read activity records`);
  return finding('google.reports-privilege', t, 'skip', 'not checked: no application answered');
}

function applicationFinding(p: GoogleProbe, app: GoogleProbe['apps'][number]): Finding {
  const target = `${p.target}/${app.name}`;
  if (app.result.ok) {
    const seen = app.result.items > 0 ? 'activity in the last 24 hours' : 'reachable, no activity in the last 24 hours';
    return finding('google.application', target, 'ok', app.result.items > 0 ? `reachable; ${seen}` : seen);
  }
  const failure = app.result.failure;
  if (NOT_AUTHORIZED.test(failure.message)) return finding('google.application', target, 'skip', 'not checked: see google.reports-privilege');
  const verdict = classify(failure, identity(p, app.name, app.userKey), p.now);
  if (verdict.kind === 'config') return finding('google.application', target, 'fail', verdict.message, verdict.hint);
  if (verdict.kind === 'throttled') return finding('google.application', target, 'warn', `quota exceeded (${verdict.reason})`, 'see google.quota');
  const { reason } = verdict;
  return finding('google.application', target, 'fail', `not reachable: ${reason}`, 'check rootUrl, the network path and tls.ca; a 5xx passes: try again later');
}

/** Headroom: what steady polling needs against the configured budget and the project's quota; any quota answer now. */
export function quotaFinding(p: GoogleProbe): Finding {
  const t = p.target;
  const { requestsPerMinute, pollingPerMinute, projectRequestsPerMinute } = p.budget;
  const throttled = p.apps.find((a) => !a.result.ok && classify(a.result.failure, identity(p, a.name, a.userKey), p.now).kind === 'throttled');
  const need = `steady polling needs about ${Math.ceil(pollingPerMinute)} requests/minute of a ${requestsPerMinute}/minute budget`;
  if (throttled) {
    return finding(
      'google.quota',
      t,
      'warn',
      `project ${p.who.projectId} is over its quota right now (${throttled.name}); ${need}`,
      'another workload uses this project\'s Reports quota, or the budget is above it: lower requestsPerMinute or use a project of its own',
    );
  }
  if (projectRequestsPerMinute > PROJECT_QUOTA_PER_MINUTE) {
    return finding(
      'google.quota',
      t,
      'warn',
      `customers on project ${p.who.projectId} are given ${projectRequestsPerMinute} requests/minute together, above its quota of about ${PROJECT_QUOTA_PER_MINUTE}`,
      'lower requestsPerMinute so their sum stays under the quota, or ask Google for more',
    );
  }
  if (pollingPerMinute > requestsPerMinute) {
    return finding('google.quota', t, 'warn', `${need}: not enough, windows will lag`, 'raise pollInterval, pull fewer applications, or raise requestsPerMinute (within the project quota)');
  }
  return finding('google.quota', t, 'ok', `${need} (${Math.round((pollingPerMinute / requestsPerMinute) * 100)}%); project ${p.who.projectId}`);
}

/** Requests per minute the schedule of these applications makes once caught up (one read per stage step). */
export function pollingPerMinute(customer: GoogleCustomerConfig): number {
  let total = 0;
  for (const app of customer.applications) for (const step of scheduleOf(customer, app).steps) total += 60_000 / step;
  return total;
}

// ---------------------------------------------------------------------------------------------

export interface GoogleProbeOptions {
  baseDir: string;
  /** Sum of requestsPerMinute of every configured customer on the same project. */
  projectRequestsPerMinute: number;
  now?: () => number;
  signal?: AbortSignal;
}

const DAY_MS = 86_400_000;

export async function probeGoogle(customer: GoogleCustomerConfig, options: GoogleProbeOptions): Promise<GoogleProbe> {
  const now = options.now ?? Date.now;
  const probe: GoogleProbe = {
    target: `google:${customer.name ?? customer.customerId}`,
    who: { customerId: customer.customerId, subject: customer.subject, clientEmail: '?', clientId: '?', projectId: customer.projectId ?? '?' },
    key: { ok: true },
    apps: [],
    budget: { requestsPerMinute: customer.requestsPerMinute, pollingPerMinute: pollingPerMinute(customer), projectRequestsPerMinute: options.projectRequestsPerMinute },
    now: now(),
  };
  let auth: GoogleAuth;
  try {
    auth = createGoogleAuth(customer, options.baseDir);
  } catch (err) {
    probe.key = { ok: false, message: (err as Error).message, hint: err instanceof StreamConfigError ? err.hint : 'check credentials.keyFile / credentials.key' };
    return probe;
  }
  try {
    probe.who = { ...probe.who, clientEmail: auth.key.clientEmail, clientId: auth.key.clientId, projectId: customer.projectId ?? auth.key.projectId };
    try {
      await auth.jwt.getAccessToken();
      probe.token = { ok: true };
    } catch (err) {
      probe.token = { ok: false, failure: describeFailure(err) };
      return probe;
    }
    const client = createReportsClient(auth.jwt, customer.rootUrl);
    const end = now();
    for (const app of customer.applications) {
      const signal = options.signal ?? new AbortController().signal;
      try {
        const page = await listActivities(
          client,
          {
            customerId: customer.customerId,
            applicationName: app.name,
            userKey: app.userKey,
            startTime: new Date(end - DAY_MS).toISOString(),
            endTime: new Date(end).toISOString(),
            maxResults: 1,
          },
          signal,
        );
        probe.apps.push({ name: app.name, userKey: app.userKey, result: { ok: true, items: page.items.length } });
      } catch (err) {
        const failure = describeFailure(err);
        probe.apps.push({ name: app.name, userKey: app.userKey, result: { ok: false, failure } });
        // The subject cannot read any application: asking for the others only repeats it.
        if (NOT_AUTHORIZED.test(failure.message)) break;
      }
    }
    return probe;
  } finally {
    await auth.close();
  }
}

/** Every customer, one after another; a project's quota is shared by every customer naming it. */
export async function checkGoogle(customers: GoogleCustomerConfig[], deps: DoctorDeps): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const customer of customers) {
    const probe = await probeGoogle(customer, {
      baseDir: deps.baseDir,
      projectRequestsPerMinute: projectBudget(customers, customer.projectId, customer.requestsPerMinute),
      signal: deps.signal,
    });
    findings.push(...googleFindings(probe));
  }
  return findings;
}

/** The budgets of every customer naming the same project (a customer without one counts alone). */
function projectBudget(customers: { projectId?: string; requestsPerMinute: number }[], projectId: string | undefined, own: number): number {
  if (!projectId) return own;
  return customers.filter((c) => c.projectId === projectId).reduce((n, c) => n + c.requestsPerMinute, 0);
}
