import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.ts';
import type { Daemon } from '../../src/daemon.ts';
import { sendJson, startHttpsServer } from '../../src/sources/shared/emulator/https.ts';
import { createEmulatorTls } from '../../src/sources/shared/emulator/tls.ts';
import { TruthRegistry } from '../../src/sources/shared/emulator/truth.ts';
import type { DecodedLogRecord } from '../support/otlp-decode.ts';
import { daemonConfig, startInProcess, startWorld, waitFor, type World } from '../support/harness.ts';

/**
 * Golden tests to the wire, as the Collector's receivers test with golden logs: the vendors' own
 * recorded answers (test/fixtures/conformance) go in over HTTP, through the daemon as `run` builds it
 * (registry, clients, policy, stream, mapping, encoder, OTLP sender), and the OTLP request that
 * reaches the endpoint is decoded and compared with the golden file next to this one, every field
 * but the observed time. `UPDATE_GOLDEN=1` rewrites the golden files (then read the diff).
 *
 * No emulator answers here (Google's issues the tokens): every API answer comes from the samples.
 */

const CONFORMANCE = join(import.meta.dirname, '..', 'fixtures', 'conformance');
const sample = (source: string, name: string) => JSON.parse(readFileSync(join(CONFORMANCE, source, `${name}.json`), 'utf8')).response.body;

/**
 * A plain HTTP server answering from `answer(url)`; JSON bodies, 404 for anything else. It also
 * issues tokens as Entra's v2 endpoints do, just enough for msal-node (instance and OpenID
 * discovery, client credentials), so Office 365's login and API can both point at it.
 */
async function recordedApi(answer: (url: URL, origin: string) => unknown): Promise<{ url: string; ca: string; calls: string[]; close(): Promise<void> }> {
  const calls: string[] = [];
  let origin = '';
  // HTTPS as the real hosts (msal-node refuses an http authority), with a CA of its own.
  const tls = await createEmulatorTls(mkdtempSync(join(tmpdir(), 'auditrelay-recorded-')));
  const entra = (url: URL): unknown => {
    const host = new URL(origin).host;
    if (url.pathname === '/common/discovery/instance') {
      const tenant = /\/([^/]+)\/oauth2\//.exec(url.searchParams.get('authorization_endpoint') ?? '')?.[1] ?? 'common';
      return { tenant_discovery_endpoint: `${origin}/${tenant}/v2.0/.well-known/openid-configuration`, 'api-version': '1.1', metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }] };
    }
    const tenant = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(url.pathname);
    if (!tenant) return undefined;
    const root = `${origin}/${tenant[1]}`;
    if (tenant[2] === 'oauth2/v2.0/token') return { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: 'a-token-for-the-recording' };
    return { token_endpoint: `${root}/oauth2/v2.0/token`, issuer: `${root}/v2.0`, authorization_endpoint: `${root}/oauth2/v2.0/authorize`, jwks_uri: `${root}/discovery/v2.0/keys` };
  };
  const server = await startHttpsServer({
    tls,
    truth: new TruthRegistry(),
    handler: (req, res) => {
      const url = new URL(req.url ?? '/', origin);
      calls.push(url.pathname);
      req.resume();
      const body = entra(url) ?? answer(url, origin);
      sendJson(res, body === undefined ? 404 : 200, body ?? { error: { code: 'NotFound', message: 'not in the recording' } });
    },
  });
  origin = server.url;
  return { url: origin, ca: tls.caPem, calls, close: () => server.close() };
}

/** What the golden file holds of a record: everything decoded but the observed time; the version of auditrelay masked. */
function goldenOf(records: DecodedLogRecord[]): unknown[] {
  return records
    .map((r) => ({
      timeUnixNano: String(r.timeUnixNano),
      severityNumber: r.severityNumber,
      eventName: r.eventName,
      attributes: r.attributes,
      resource: { ...r.resource, ...('service.version' in r.resource ? { 'service.version': '<version>' } : {}) },
      body: r.body,
    }))
    .sort((a, b) => String(a.attributes['log.record.uid']).localeCompare(String(b.attributes['log.record.uid'])));
}

function expectGolden(name: string, records: DecodedLogRecord[]): void {
  const file = join(import.meta.dirname, `${name}.expected.json`);
  const actual = goldenOf(records);
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
  if (!existsSync(file)) throw new Error(`${file} is missing: run with UPDATE_GOLDEN=1 and read what it wrote`);
  expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')));
}

let world: World;
beforeAll(async () => {
  world = await startWorld({ o365: { blobInterval: 0 }, google: { history: 0, eventsPerMinute: 0, live: false } });
});
afterAll(async () => {
  await world?.close();
});

async function runUntil(config: Config, count: number): Promise<DecodedLogRecord[]> {
  let daemon: Daemon | undefined;
  try {
    daemon = await startInProcess(config);
    await waitFor(() => world.sink.records.length >= count, 60_000, () => `${world.sink.records.length} of ${count} records exported`);
  } finally {
    await daemon?.stop(5_000);
  }
  return world.sink.records.splice(0);
}

describe('golden: recorded API answers in, the OTLP request out', () => {
  it('Office 365: subscriptions/list, subscriptions/content and a content blob from the API reference', async () => {
    const subscriptions = sample('o365', 'list-subscriptions');
    const listing = sample('o365', 'list-content') as { contentUri: string }[];
    const blob = sample('o365', 'retrieve-content') as unknown[];
    const api = await recordedApi((url, origin) => {
      if (url.pathname.endsWith('/activity/feed/subscriptions/list')) return subscriptions;
      if (url.pathname.endsWith('/activity/feed/subscriptions/content')) {
        return listing.map((item) => ({ ...item, contentUri: `${origin}${new URL(item.contentUri).pathname}` }));
      }
      if (url.pathname.includes('/activity/feed/audit/')) return blob;
      return undefined;
    });
    try {
      const config = daemonConfig(world, (c) => {
        c.sources.google = [];
        const [tenant] = c.sources.o365;
        // The tenant of the reference's listing sample.
        c.sources.o365 = [{ ...tenant!, tenantId: 'f28ab78a-d401-4060-8012-736e373933eb', apiUrl: api.url, loginUrl: api.url, contentTypes: ['Audit.SharePoint'], tls: { ca: api.ca } }];
      });
      // Every listed blob answers with the same recorded records: one export of each record (deduplicated by uid).
      const records = await runUntil(config, blob.length);
      expect(api.calls.some((p) => p.includes('/activity/feed/audit/'))).toBe(true);
      expectGolden('o365', records);
    } finally {
      await api.close();
    }
  });

  it('Google: an activities.list page as the Reports API discovery document describes it', async () => {
    const page = { ...sample('google', 'activities-list-schema') };
    delete page.nextPageToken;
    const events = (page.items as { events: unknown[] }[]).reduce((n, a) => n + a.events.length, 0);
    const api = await recordedApi((url) => (url.pathname.includes('/admin/reports/v1/activity/users/') ? page : undefined));
    try {
      const config = daemonConfig(world, (c) => {
        c.sources.o365 = [];
        const [customer] = c.sources.google;
        const applications = customer!.applications.filter((a) => a.name === 'drive');
        // Tokens from the Google emulator, activities from the recording: both CAs.
        c.sources.google = [{ ...customer!, customerId: 'C01abc2de', rootUrl: api.url, applications, tls: { ca: `${readFileSync(world.emulators.ca, 'utf8')}\n${api.ca}` } }];
        if (applications.length === 0) throw new Error('the emulator config has no drive application');
      });
      const records = await runUntil(config, events);
      expectGolden('google', records);
    } finally {
      await api.close();
    }
  });
});
