import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfidentialClientApplication, type INetworkModule, type NetworkResponse } from '@azure/msal-node';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.ts';
import { type RunningEmulators, startEmulators } from '../../src/emulator/index.ts';
import type { O365Emulator } from '../../src/sources/o365/emulator/index.ts';
import { o365EmulatorToken } from '../support/o365-token.ts';

/**
 * The Office 365 emulator through the clients the daemon uses: msal-node for tokens (secret and
 * certificate) and undici for the API, trusting only the emulator's generated CA. Time moves by a
 * test-controlled clock offset, never by waiting.
 */
const H = 3_600_000;
let offsetMs = 0;
let emulators: RunningEmulators;
let o365: O365Emulator;
let dispatcher: Agent;

beforeAll(async () => {
  emulators = await startEmulators({
    dir: mkdtempSync(join(tmpdir(), 'auditrelay-o365-emu-')),
    seed: 11,
    faults: false,
    o365: { backlog: '3h', blobInterval: 0, lateRate: 0, clock: () => Date.now() + offsetMs, sharedPoolPerMinute: 5 },
  });
  o365 = emulators.sources.o365;
  dispatcher = new Agent({ connect: { ca: readFileSync(emulators.ca, 'utf8') } });
});

afterAll(async () => {
  await dispatcher?.close();
  await emulators?.close();
});

/** msal-node's network module over undici with the emulator CA trusted. */
function networkClient(agent: Agent = dispatcher): INetworkModule {
  const send = async <T>(method: 'GET' | 'POST', url: string, options?: { headers?: Record<string, string>; body?: string }): Promise<NetworkResponse<T>> => {
    const r = await request(url, { method, dispatcher: agent, headers: options?.headers, body: options?.body });
    return { status: r.statusCode, headers: r.headers as Record<string, string>, body: (await r.body.json()) as T };
  };
  return { sendGetRequestAsync: (url, options) => send('GET', url, options), sendPostRequestAsync: (url, options) => send('POST', url, options) };
}

function msalApp(credential: { clientSecret: string } | { clientCertificate: { thumbprintSha256: string; privateKey: string } }): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: { clientId: o365.clientId, authority: `${emulators.o365}/${o365.tenantId}`, knownAuthorities: [new URL(emulators.o365).host], ...credential },
    system: { networkClient: networkClient() },
  });
}

/** A fresh token straight from the token endpoint (msal caches by the real clock, the emulator uses the test clock). */
const token = () => o365EmulatorToken(emulators, dispatcher);

const feed = (rest: string) => `${emulators.o365}/api/v1.0/${o365.tenantId}/activity/feed/${rest}`;
const pub = () => `PublisherIdentifier=${o365.tenantId}`;

async function api(url: string, opts: { method?: 'GET' | 'POST'; bearer?: string; headers?: Record<string, string> } = {}) {
  const r = await request(url, { method: opts.method ?? 'GET', dispatcher, headers: { authorization: `Bearer ${opts.bearer ?? (await token())}`, ...opts.headers } });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers, json: text ? (JSON.parse(text) as unknown) : undefined };
}

const errorCode = (json: unknown) => (json as { error?: { code?: string } }).error?.code;

function fmt(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

describe('Entra token endpoint', () => {
  it('gives msal-node a token for a client secret and for a certificate assertion', async () => {
    const scopes = [`${emulators.o365}/.default`];
    const bySecret = await msalApp({ clientSecret: o365.clientSecret }).acquireTokenByClientCredential({ scopes });
    expect(bySecret?.accessToken).toBeTruthy();
    expect(bySecret?.tokenType).toBe('Bearer');
    const cert = o365.clientCertificate;
    const byCert = await msalApp({ clientCertificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.keyPem } }).acquireTokenByClientCredential({ scopes });
    expect(byCert?.accessToken).toBeTruthy();
    const list = await api(feed(`subscriptions/list?${pub()}`), { bearer: byCert!.accessToken });
    expect(list.status).toBe(200);
  });

  it('refuses a wrong secret with invalid_client AADSTS7000215 and a wrong scope with an AADSTS error', async () => {
    const wrong = msalApp({ clientSecret: `${o365.clientSecret}x` }).acquireTokenByClientCredential({ scopes: [`${emulators.o365}/.default`] });
    await expect(wrong).rejects.toThrow(/AADSTS7000215/);
    const wrongScope = msalApp({ clientSecret: o365.clientSecret }).acquireTokenByClientCredential({ scopes: ['https://manage.office.com/.default'] });
    await expect(wrongScope).rejects.toThrow(/AADSTS500011/);
  });

  it('answers 401 for a missing or unknown bearer token', async () => {
    expect((await api(feed(`subscriptions/list?${pub()}`), { bearer: 'nonsense' })).status).toBe(401);
  });
});

describe('Management Activity API', () => {
  it('lists nothing until a subscription is started, answers AF20022, and AF20024 for a second start after 15 minutes', async () => {
    expect((await api(feed(`subscriptions/list?${pub()}`))).json).toEqual([]);
    expect(errorCode((await api(feed(`subscriptions/content?contentType=Audit.Exchange&${pub()}`))).json)).toBe('AF20022');
    const started = await api(feed(`subscriptions/start?contentType=Audit.Exchange&${pub()}`), { method: 'POST' });
    expect(started.status).toBe(200);
    expect(started.json).toEqual({ contentType: 'Audit.Exchange', status: 'enabled', webhook: null });
    const again = await api(feed(`subscriptions/start?contentType=Audit.Exchange&${pub()}`), { method: 'POST' });
    expect(again.status).toBe(429);
    expect((again.json as { error: { message: string } }).error.message).toMatch(/retry after 1[45]m \d+s/);
    offsetMs += 15 * 60_000;
    const later = await api(feed(`subscriptions/start?contentType=Audit.Exchange&${pub()}`), { method: 'POST' });
    expect(errorCode(later.json)).toBe('AF20024');
    expect((await api(feed(`subscriptions/list?${pub()}`))).json).toEqual([{ contentType: 'Audit.Exchange', status: 'enabled', webhook: null }]);
  });

  it('pages listings with a full NextPageUri/NextPageUrl URL, and every blob and record matches the truth', async () => {
    const bearer = await token();
    const now = o365.now();
    const seenHeaders = new Set<string>();
    const records: string[] = [];
    let blobs = 0;
    for (const ct of ['Audit.Exchange']) {
      let url: string | undefined = feed(`subscriptions/content?contentType=${ct}&startTime=${fmt(now - 5 * H)}&endTime=${fmt(now + 1000)}&${pub()}`);
      while (url) {
        const page = await api(url, { bearer });
        expect(page.status).toBe(200);
        const items = page.json as { contentUri: string; contentCreated: string; contentExpiration: string; contentType: string }[];
        expect(items.length).toBeLessThanOrEqual(5);
        for (const item of items) {
          expect(item.contentType).toBe(ct);
          expect(Date.parse(item.contentExpiration) - Date.parse(item.contentCreated)).toBe(7 * 24 * H);
          const blob = await api(`${item.contentUri}?${pub()}`, { bearer });
          expect(blob.status).toBe(200);
          for (const r of blob.json as { Id: string }[]) records.push(r.Id);
          blobs++;
        }
        const name = Object.keys(page.headers).find((h) => h === 'nextpageuri' || h === 'nextpageurl');
        if (name) seenHeaders.add(name);
        url = name ? String(page.headers[name]) : undefined;
        if (url) expect(url.startsWith(`${emulators.o365}/api/v1.0/`)).toBe(true);
      }
    }
    expect(blobs).toBeGreaterThan(10);
    expect(seenHeaders).toEqual(new Set(['nextpageuri', 'nextpageurl']));
    const truth = new Set(emulators.truth());
    for (const id of records) expect(truth.has(id)).toBe(true);
  });

  it('enforces the listing time rules against the server clock', async () => {
    const bearer = await token();
    const now = o365.now();
    const list = (q: string) => api(feed(`subscriptions/content?contentType=Audit.Exchange&${q}&${pub()}`), { bearer });
    expect(errorCode((await list(`startTime=${fmt(now - H)}`)).json)).toBe('AF20030');
    expect(errorCode((await list(`startTime=${fmt(now - 25 * H)}&endTime=${fmt(now)}`)).json)).toBe('AF20055');
    expect(errorCode((await list(`startTime=${fmt(now - 8 * 24 * H)}&endTime=${fmt(now - 8 * 24 * H + H)}`)).json)).toBe('AF20055');
    expect(errorCode((await list('startTime=yesterday&endTime=today')).json)).toBe('AF20002');
    expect(errorCode((await list(`startTime=${fmt(now - H)}&endTime=${fmt(now)}&nextPage=garbage`)).json)).toBe('AF20031');
    expect((await list(`startTime=${fmt(now - H).slice(0, 10)}&endTime=${fmt(now - H).slice(0, 16)}`)).status).toBe(200);
  });

  it('answers the documented error codes for tenants, content types and content ids', async () => {
    const bearer = await token();
    const other = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    expect(errorCode((await api(`${emulators.o365}/api/v1.0/${other}/activity/feed/subscriptions/list?${pub()}`, { bearer })).json)).toBe('AF20010');
    expect(errorCode((await api(`${emulators.o365}/api/v1.0/contoso.onmicrosoft.com/activity/feed/subscriptions/list?${pub()}`, { bearer })).json)).toBe('AF20013');
    expect(errorCode((await api(feed(`subscriptions/content?contentType=Audit.Nothing&${pub()}`), { bearer })).json)).toBe('AF20020');
    expect(errorCode((await api(feed(`audit/not-an-id?${pub()}`), { bearer })).json)).toBe('AF20052');
    const unknown = '20261122041913712000001$20261122041913712000001$audit_exchange$Audit_Exchange$na0001';
    expect(errorCode((await api(feed(`audit/${unknown}?${pub()}`), { bearer })).json)).toBe('AF20050');
    const lang = await api(feed(`resources/dlpSensitiveTypes?${pub()}`), { bearer, headers: { 'accept-language': 'en-US, de-DE' } });
    expect(errorCode(lang.json)).toBe('AF20053');
    const types = await api(feed(`resources/dlpSensitiveTypes?${pub()}`), { bearer, headers: { 'accept-language': 'en-US' } });
    expect((types.json as unknown[]).length).toBeGreaterThan(0);
  });

  it('throttles calls without PublisherIdentifier in the shared pool with AF429 naming PublisherId=00000000-...', async () => {
    const bearer = await token();
    let refused: { status: number; json: unknown } | undefined;
    for (let i = 0; i < 10 && !refused; i++) {
      const r = await api(feed('subscriptions/list'), { bearer });
      if (r.status !== 200) refused = r;
    }
    expect(refused?.status).toBe(403);
    expect(refused?.json).toEqual({ error: { code: 'AF429', message: 'Too many requests. Method=ListSubscriptions, PublisherId=00000000-0000-0000-0000-000000000000' } });
    expect((await api(feed(`subscriptions/list?${pub()}`), { bearer })).status).toBe(200);
  });

  it('switches faults at run time through /_emulator/faults', async () => {
    const bearer = await token();
    const set = await request(`${emulators.o365}/_emulator/faults`, { method: 'POST', dispatcher, body: JSON.stringify({ rates: { af429As403: 1 } }) });
    expect(((await set.body.json()) as { rates: { af429As403: number } }).rates.af429As403).toBe(1);
    const throttled = await api(feed(`subscriptions/list?${pub()}`), { bearer });
    expect(throttled.status).toBe(403);
    expect(errorCode(throttled.json)).toBe('AF429');
    await request(`${emulators.o365}/_emulator/faults`, { method: 'POST', dispatcher, body: JSON.stringify({ all: 0, rates: { tokenExpired401: 1 } }) }).then((r) => r.body.dump());
    expect((await api(feed(`subscriptions/list?${pub()}`), { bearer })).status).toBe(401);
    await request(`${emulators.o365}/_emulator/faults`, { method: 'POST', dispatcher, body: JSON.stringify({ all: 0 }) }).then((r) => r.body.dump());
    expect((await api(feed(`subscriptions/list?${pub()}`), { bearer })).status).toBe(200);
    const bad = await request(`${emulators.o365}/_emulator/faults`, { method: 'POST', dispatcher, body: JSON.stringify({ rates: { nonsense: 1 } }) });
    expect(bad.statusCode).toBe(400);
    await bad.body.dump();
  });

  it('makes a blob visible only when produced, lists it in the truth, and answers AF20051 once it is 7 days old', async () => {
    const before = emulators.truth().length;
    const blob = o365.produceBlob('Audit.Exchange');
    expect(emulators.truth().length).toBeGreaterThan(before);
    const truthHttp = await request(`${emulators.o365}/_emulator/truth`, { dispatcher });
    expect(((await truthHttp.body.json()) as string[]).length).toBe(emulators.truth().length);
    const uri = feed(`audit/${blob.contentId}?${pub()}`);
    expect((await api(uri)).status).toBe(200);
    offsetMs += 7 * 24 * H + 1000;
    expect(errorCode((await api(uri)).json)).toBe('AF20051');
  });

  it('writes a daemon config that validates and points at the emulator with the CA and credential files', () => {
    const { config } = loadConfigFile(emulators.config);
    const tenant = config.sources.o365[0]!;
    expect(tenant.apiUrl).toBe(emulators.o365);
    expect(tenant.loginUrl).toBe(emulators.o365);
    expect(tenant.clientSecret).toBe(o365.clientSecret);
    expect(tenant.tls?.ca).toBe(readFileSync(emulators.ca, 'utf8').trim());
    expect(readFileSync(emulators.config, 'utf8')).not.toContain(o365.clientSecret);
  });
});

describe('doctor stages', () => {
  async function staged(stage: string) {
    const e = await startEmulators({ dir: mkdtempSync(join(tmpdir(), `auditrelay-stage-${stage}-`)), seed: 1, faults: false, stage, o365: { blobInterval: 0 } });
    const o = e.sources.o365;
    // Each emulator start makes its own CA: trust this one.
    const agent = new Agent({ connect: { ca: readFileSync(e.ca, 'utf8') } });
    const t = await request(`${e.o365}/${o.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: o.clientId, client_secret: o.clientSecret, scope: `${e.o365}/.default` }).toString(),
    });
    const bearer = ((await t.body.json()) as { access_token: string }).access_token;
    const call = async (rest: string, method: 'GET' | 'POST' = 'GET') => {
      const sep = rest.includes('?') ? '&' : '?';
      const r = await request(`${e.o365}/api/v1.0/${o.tenantId}/activity/feed/${rest}${sep}PublisherIdentifier=${o.tenantId}`, { method, dispatcher: agent, headers: { authorization: `Bearer ${bearer}` } });
      return { status: r.statusCode, headers: r.headers, json: (await r.body.json()) as unknown };
    };
    const close = async () => {
      await agent.close();
      await e.close();
    };
    return { e, o, call, agent, close };
  }

  it('wrong-secret writes a config whose secret the token endpoint refuses', async () => {
    const { e, o, agent, close } = await staged('wrong-secret');
    try {
      const { config } = loadConfigFile(e.config);
      const secret = config.sources.o365[0]!.clientSecret!;
      expect(secret).not.toBe(o.clientSecret);
      const app = new ConfidentialClientApplication({
        auth: { clientId: o.clientId, clientSecret: secret, authority: `${e.o365}/${o.tenantId}`, knownAuthorities: [new URL(e.o365).host] },
        system: { networkClient: networkClient(agent) },
      });
      await expect(app.acquireTokenByClientCredential({ scopes: [`${e.o365}/.default`] })).rejects.toThrow(/AADSTS7000215/);
    } finally {
      await close();
    }
  });

  it('disabled-subscription lists disabled subscriptions and answers AF20023; audit-off answers AF20011', async () => {
    const disabled = await staged('disabled-subscription');
    try {
      expect(errorCode((await disabled.call('subscriptions/content?contentType=Audit.General')).json)).toBe('AF20023');
      expect((await disabled.call('subscriptions/list')).json).toContainEqual({ contentType: 'Audit.General', status: 'disabled', webhook: null });
    } finally {
      await disabled.close();
    }
    const off = await staged('audit-off');
    try {
      expect(errorCode((await off.call('subscriptions/list')).json)).toBe('AF20011');
    } finally {
      await off.close();
    }
  });

  it('no-subscription answers AF20022 for content', async () => {
    const none = await staged('no-subscription');
    try {
      expect((await none.call('subscriptions/list')).json).toEqual([]);
      expect(errorCode((await none.call('subscriptions/content?contentType=Audit.Exchange')).json)).toBe('AF20022');
    } finally {
      await none.close();
    }
  });

  it('clock-skew sends a Date header hours off and refuses windows that are in the future for the server', async () => {
    const skewed = await staged('clock-skew');
    try {
      const started = await skewed.call('subscriptions/start?contentType=Audit.General', 'POST');
      expect(started.status).toBe(200);
      const skew = Date.parse(String(started.headers.date)) - Date.now();
      expect(skew).toBeLessThan(-H);
      const now = Date.now();
      const listing = await skewed.call(`subscriptions/content?contentType=Audit.General&startTime=${fmt(now - 30 * 60_000)}&endTime=${fmt(now)}`);
      expect(errorCode(listing.json)).toBe('AF20055');
      const serverNow = Date.parse(String(listing.headers.date));
      const fixed = await skewed.call(`subscriptions/content?contentType=Audit.General&startTime=${fmt(serverNow - 30 * 60_000)}&endTime=${fmt(serverNow)}`);
      expect(fixed.status).toBe(200);
    } finally {
      await skewed.close();
    }
  });
});

describe('auditrelay emulate', () => {
  it('prints exactly one JSON line with o365, ca and config once ready, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditrelay-emulate-cli-'));
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts'), 'emulate', '--seed', '2', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] as string);
      });
      child.once('exit', (code) => reject(new Error(`emulate exited early with ${code}: ${err}`)));
    });
    const ready = JSON.parse(line) as { o365: string; ca: string; config: string };
    expect(ready.o365).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.ca).toBe(join(dir, 'ca.pem'));
    expect(loadConfigFile(ready.config).config.sources.o365).toHaveLength(1);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    // The messages carry what emulate wrote, so a failure says why (once seen under full-suite load).
    expect(await exited, `exit code; stderr: ${err}`).toBe(0);
    expect(out.trim().split('\n'), `stdout: ${out}`).toHaveLength(1);
  });
});
