import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, JSON_SCHEMA_PATH } from '../../src/config/json-schema.ts';
import { parseConfigText } from '../../src/config/load.ts';

describe('published config artefacts', () => {
  it('config/auditrelay.schema.json is generated from the current schema (run `npm run schema`)', () => {
    expect(JSON.parse(readFileSync(JSON_SCHEMA_PATH, 'utf8'))).toEqual(configJsonSchema());
  });

  it('config/production.yaml is valid once its secrets exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
    const text = readFileSync(new URL('../../config/production.yaml', import.meta.url), 'utf8').replaceAll('/var/run/secrets/auditrelay', dir);
    writeFileSync(join(dir, 'fabrikam.key'), '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n');
    writeFileSync(join(dir, 'fabrikam.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'google-sa.json'), '{"type": "service_account"}\n');
    const config = parseConfigText(text, 'production.yaml', dir, { CONTOSO_CLIENT_SECRET: 'example-secret-value' });
    expect(config.sources.o365).toHaveLength(2);
    expect(config.sources.o365[1]!.contentTypes).toEqual(['Audit.Exchange', 'Audit.AzureActiveDirectory']);
    expect(config.sources.google).toHaveLength(1);
    expect(config.sources.google[0]!.applications.map((a) => a.name)).toContain('login');
    expect(config.sources.google[0]!.credentials.keyFile).toBe(join(dir, 'google-sa.json'));
  });
});
