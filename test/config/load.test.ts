import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfigText } from '../../src/config/load.ts';
import { redactText } from '../../src/secrets/redact.ts';

const TENANT = '0b7b3a1e-2c4d-4e5f-8a9b-0c1d2e3f4a5b';
const problems = (text: string, env: NodeJS.ProcessEnv = {}) => {
  try {
    parseConfigText(text, 'test.yaml', '/tmp', env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('config loading', () => {
  it('fills every default from the schema', () => {
    const cfg = parseConfigText(`sources:\n  o365:\n    - tenantId: ${TENANT}\n      clientId: app\n      clientSecret: s3cr3t-value\n`, 't.yaml', '/etc/ar', {});
    const t = cfg.sources.o365[0]!;
    expect(t.contentTypes).toHaveLength(5);
    expect(t.requestsPerMinute).toBe(2000);
    expect(t.pollInterval).toBe(60_000);
    expect(cfg.state.path).toBe('/etc/ar/state');
    expect(cfg.export.mode).toBe('otlp');
  });

  it('names every problem by its key path with what was expected', () => {
    const found = problems(`sources:\n  o365:\n    - tenantId: contoso.com\n      clientId: app\n      pollInterval: soon\n      contentTypes: [Audit.Nope]\n      bogus: 1\n`);
    const byPath = Object.fromEntries(found.map((p) => [p.path, p.message]));
    expect(byPath['sources.o365[0].tenantId']).toMatch(/GUID/);
    expect(byPath['sources.o365[0].pollInterval']).toMatch(/duration/);
    expect(byPath['sources.o365[0].contentTypes[0]']).toMatch(/Audit.Exchange/);
    expect(byPath['sources.o365[0]']).toMatch(/unknown key "bogus"/);
  });

  it('asks for exactly one credential', () => {
    const found = problems(`sources:\n  o365:\n    - tenantId: ${TENANT}\n      clientId: app\n`);
    expect(found).toEqual([{ path: 'sources.o365[0].clientSecret', message: 'give exactly one of clientSecret or certificate' }]);
  });

  it('requires at least one source', () => {
    expect(problems('log:\n  level: info\n').map((p) => p.path)).toContain('sources');
  });

  it('substitutes ${env:} and ${file:} and registers the values as secrets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'secret.txt'), 'from-a-file-123\n');
    writeFileSync(
      join(dir, 'c.yaml'),
      `sources:\n  o365:\n    - tenantId: ${TENANT}\n      clientId: \${env:CLIENT_ID}\n      clientSecret: \${file:secret.txt}\n      name: \${env:MISSING:-fallback}\n`,
    );
    const { config } = loadConfigFile(join(dir, 'c.yaml'), { CLIENT_ID: 'app-id-from-env' });
    expect(config.sources.o365[0]!.clientSecret).toBe('from-a-file-123');
    expect(config.sources.o365[0]!.name).toBe('fallback');
    expect(redactText('oops from-a-file-123 leaked')).toBe('oops [REDACTED] leaked');
  });

  it('names a missing variable or file at its key path', () => {
    const found = problems(`sources:\n  o365:\n    - tenantId: ${TENANT}\n      clientId: \${env:NOPE}\n      clientSecret: \${file:/nonexistent/x}\n`);
    expect(found).toEqual([
      { path: 'sources.o365[0].clientId', message: 'environment variable NOPE is not set' },
      { path: 'sources.o365[0].clientSecret', message: expect.stringMatching(/cannot read file \/nonexistent\/x: ENOENT/) },
    ]);
  });

  it('reports YAML syntax errors with a line number', () => {
    expect(problems('sources:\n  o365: [\n')[0]!.path).toMatch(/line/);
  });
});
