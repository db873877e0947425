import { constants, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClientCertificate } from '../../../../src/sources/shared/emulator/tls.ts';
import { registerCertificate, verifyClientAssertion } from '../../../../src/sources/o365/emulator/client-assertion.ts';
import { FaultInjector, initialFaults } from '../../../../src/sources/o365/emulator/faults.ts';
import { PublisherPools, StartThrottle } from '../../../../src/sources/o365/emulator/throttle.ts';

const CLIENT = 'f6978cb7-b7c7-474c-9fa8-3f32da29d85f';
const AUD = 'https://127.0.0.1:1234/tenant/oauth2/v2.0/token';
const NOW = Date.parse('2026-11-22T12:00:00Z');
const cert = await createClientCertificate('test app');
const other = await createClientCertificate('someone else');
const registered = [registerCertificate(cert.certPem)];

function assertion(opts: { alg?: 'PS256' | 'RS256'; key?: string; x5t256?: string; claims?: Record<string, unknown> } = {}): string {
  const alg = opts.alg ?? 'PS256';
  const header = alg === 'PS256' ? { alg, typ: 'JWT', 'x5t#S256': opts.x5t256 ?? Buffer.from(cert.thumbprintSha256, 'hex').toString('base64url') } : { alg, typ: 'JWT', x5t: registered[0]!.sha1 };
  const nowS = NOW / 1000;
  const claims = { aud: AUD, iss: CLIENT, sub: CLIENT, exp: nowS + 600, nbf: nowS, jti: 'x', ...opts.claims };
  const data = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const key = opts.key ?? cert.keyPem;
  const signature = alg === 'PS256' ? sign('sha256', Buffer.from(data), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }) : sign('sha256', Buffer.from(data), key);
  return `${data}.${signature.toString('base64url')}`;
}

const expected = { clientId: CLIENT, audiences: [AUD], certificates: registered, nowMs: NOW };

describe('client assertion verification', () => {
  it('accepts PS256 with x5t#S256 and RS256 with x5t, signed by the registered certificate', () => {
    expect(verifyClientAssertion(assertion(), expected)).toBeUndefined();
    expect(verifyClientAssertion(assertion({ alg: 'RS256' }), expected)).toBeUndefined();
  });

  it('refuses a signature by another key, an unregistered thumbprint, a wrong aud, iss or an expired assertion', () => {
    expect(verifyClientAssertion(assertion({ key: other.keyPem }), expected)?.code).toBe(7000274);
    expect(verifyClientAssertion(assertion({ x5t256: Buffer.from(other.thumbprintSha256, 'hex').toString('base64url') }), expected)?.code).toBe(700027);
    expect(verifyClientAssertion(assertion({ claims: { aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' } }), expected)?.code).toBe(700023);
    expect(verifyClientAssertion(assertion({ claims: { iss: 'someone' } }), expected)?.code).toBe(700021);
    expect(verifyClientAssertion(assertion({ claims: { exp: NOW / 1000 - 3600 } }), expected)?.code).toBe(700024);
    expect(verifyClientAssertion('not.a.jwt', expected)?.code).toBe(50027);
  });
});

describe('throttling', () => {
  it('lets one subscriptions/start through per 15 minutes per content type, then says how long to wait', () => {
    const throttle = new StartThrottle(15 * 60_000);
    expect(throttle.check('Audit.Exchange', 'p', NOW)).toBeUndefined();
    const refused = throttle.check('Audit.Exchange', 'p', NOW + 4000);
    expect(refused?.status).toBe(429);
    expect(refused?.code).toBe('AF429');
    expect(refused?.message).toContain('retry after 14m 56s');
    expect(throttle.check('Audit.SharePoint', 'p', NOW + 4000)).toBeUndefined();
    expect(throttle.check('Audit.Exchange', 'p', NOW + 15 * 60_000)).toBeUndefined();
  });

  it('puts calls without PublisherIdentifier in a small shared pool that answers AF429 naming PublisherId=00000000-...', () => {
    const pools = new PublisherPools(100, 3);
    for (let i = 0; i < 3; i++) expect(pools.take(undefined, 'GetBlob', NOW)).toBeUndefined();
    const refused = pools.take(undefined, 'GetBlob', NOW);
    expect(refused?.status).toBe(403);
    expect(refused?.message).toBe('Too many requests. Method=GetBlob, PublisherId=00000000-0000-0000-0000-000000000000');
    expect(pools.take('8d3645f2-5430-470b-9913-367bb86c93bb', 'GetBlob', NOW)).toBeUndefined();
    expect(pools.take(undefined, 'GetBlob', NOW + 60_000)).toBeUndefined();
  });
});

describe('fault injection', () => {
  it('injects nothing when off and the chosen kind when its rate is 1', () => {
    const off = new FaultInjector(initialFaults(false), 1);
    for (let i = 0; i < 200; i++) expect(off.decide('ListContent', 'p')).toEqual({ delayMs: 0, expireToken: false });
    const on = new FaultInjector(initialFaults(false, { rates: { af429As429RetryAfter: 1 } }), 1);
    const d = on.decide('ListContent', 'p');
    expect(d.error?.status).toBe(429);
    expect(d.error?.headers['Retry-After']).toBe('1');
    on.update({ all: 0, rates: { tokenExpired401: 1 } });
    expect(on.decide('GetBlob', 'p').expireToken).toBe(true);
  });

  it('turns every kind on at a few percent with faults: true', () => {
    const rates = Object.values(initialFaults(true).rates);
    expect(rates.every((r) => r > 0 && r <= 0.05)).toBe(true);
  });
});
