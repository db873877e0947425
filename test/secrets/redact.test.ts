import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

// Values a leak would show. Each one appears in at least one logged error below.
const SECRETS = {
  clientSecret: 'Qx8~secretFromEnv.ABCDEF123456',
  literalSecret: 'literal-client-secret-0987654321',
  pem: 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7',
  bearer: 'abcdefghijklmnopqrstuvwxyz0123456789',
  jwt: 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2xvZ2luIn0.c2lnbmF0dXJlLXZhbHVlLWhlcmU',
  saKeyBody: 'MIIEowIBAAKCAQEAserviceAccountKeyMaterial',
  otlpHeader: 'otlp-api-key-value-5566778899',
  configHeader: 'config-header-token-1122334455',
  pgPassword: 'pg-password-value-246810',
};

/**
 * Runs the real logger (pino on stderr, as the daemon does) in a child process over errors shaped
 * like the ones libraries throw, with the secrets registered the way the daemon registers them.
 */
function runLogger(): string {
  const dir = mkdtempSync(join(tmpdir(), 'auditrelay-redact-'));
  const config = join(dir, 'auditrelay.yaml');
  writeFileSync(
    config,
    [
      'state: { path: ./state }',
      'export: { headers: { x-custom-auth: "' + SECRETS.configHeader + '" } }',
      'sources:',
      '  o365:',
      '    - tenantId: 11111111-2222-3333-4444-555555555555',
      '      clientId: 66666666-7777-8888-9999-000000000000',
      // The loader substitutes the variable and registers its value as a secret.
      '      clientSecret: $' + '{env:O365_SECRET}',
    ].join('\n'),
  );
  const script = `
    import { loadConfigFile } from ${JSON.stringify(join(ROOT, 'src/config/load.ts'))};
    import { resolveOtlpSettings } from ${JSON.stringify(join(ROOT, 'src/export/otlp-settings.ts'))};
    import { createLogger } from ${JSON.stringify(join(ROOT, 'src/telemetry/log.ts'))};
    import { registerSecret } from ${JSON.stringify(join(ROOT, 'src/secrets/redact.ts'))};
    const S = ${JSON.stringify(SECRETS)};
    const { config } = loadConfigFile(${JSON.stringify(config)});
    resolveOtlpSettings(config.export);        // registers OTLP header values (env and config)
    registerSecret(S.literalSecret);            // as the Office 365 token provider does with its tenant's secret
    registerSecret(S.pgPassword);               // as the postgres store does with PGPASSWORD
    const pem = '-----BEGIN PRIVATE KEY-----\\n' + S.pem + '\\n-----END PRIVATE KEY-----\\n';
    const log = createLogger('debug');

    // msal / token endpoint failure echoing the request body
    log.error({ err: new Error('invalid_client: request client_secret=' + S.clientSecret + '&grant_type=client_credentials') }, 'token request failed');
    // a secret in the message string itself, and as a printf argument
    log.warn('retrying with secret ' + S.literalSecret);
    log.info('token %s', 'Bearer ' + S.bearer);
    // an HTTP error carrying the request headers
    const httpErr = Object.assign(new Error('HTTP 401'), { request: { headers: { authorization: 'Bearer ' + S.bearer, 'x-api-key': S.otlpHeader } } });
    log.error({ err: httpErr }, 'call failed');
    log.error(httpErr, 'error as first argument');
    // a client assertion JWT in a form body
    log.debug({ body: 'client_assertion_type=jwt-bearer&client_assertion=' + S.jwt }, 'token request');
    log.debug({ detail: 'assertion ' + S.jwt }, 'bare jwt');
    // a certificate private key inside an error and a config object
    log.error({ err: new Error('bad key ' + pem), tenant: { certificate: { privateKey: pem, thumbprint: 'AB12' } } }, 'certificate');
    // a Google service-account key file, as parsed JSON and as text
    const sa = { type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\\n' + S.saKeyBody + '\\n-----END PRIVATE KEY-----\\n' };
    log.error({ key: sa }, 'service account key object');
    log.error({ err: new Error('cannot parse key file: ' + JSON.stringify(sa)) }, 'service account key text');
    // OTLP exporter failures echoing headers
    log.error({ endpoint: 'http://collector:4318', headers: { 'x-custom-auth': S.configHeader }, err: new Error('403 with x-api-key=' + S.otlpHeader) }, 'otlp');
    // an error wrapping another (cause), e.g. undici or pg
    log.error({ err: new Error('connect failed', { cause: new Error('password authentication failed: ' + S.pgPassword + ' token ' + S.clientSecret) }) }, 'cause');
    // child bindings
    log.child({ tenant: { clientSecret: S.literalSecret } }).info('child');
  `;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, O365_SECRET: SECRETS.clientSecret, OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${SECRETS.otlpHeader}` },
  });
  expect(res.status, res.stderr).toBe(0);
  return res.stderr;
}

describe('logs never carry secrets (the real logger, in a child process)', () => {
  const output = runLogger();
  const lines = output.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  it('writes one JSON line per call, all of them', () => {
    expect(lines.length).toBe(13);
    expect(lines.every((l) => typeof l['msg'] === 'string' && typeof l['level'] === 'string')).toBe(true);
  });

  for (const [name, value] of Object.entries(SECRETS)) {
    it(`redacts ${name}`, () => {
      expect(output).not.toContain(value);
    });
  }

  it('keeps what is useful: messages, error types, non-secret fields, the fact that something was redacted', () => {
    expect(output).toContain('[REDACTED]');
    expect(output).toContain('invalid_client');
    expect(output).toContain('sa@p.iam.gserviceaccount.com');
    expect(output).toContain('AB12');
    const cause = lines.find((l) => l['msg'] === 'cause') as { err: Record<string, unknown> };
    expect(JSON.stringify(cause.err)).toContain('password authentication failed');
  });
});
