import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfigText } from '../../src/config/load.ts';
import { COLLECTOR_BUILD_TIMEOUT_MS, ensureCollector, validateCollectorConfig } from './collector.ts';

// otel-collector.yaml (the profile users start from) and the Collector config in the Kubernetes
// manifests must be accepted by a real Collector with the same components (splunk_hec, elasticsearch,
// file_storage, memory_limiter, otlp, debug).

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const productionConfig = join(repo, 'otel-collector.yaml');

/** Dummy values only: `validate` does not connect anywhere. */
const dummyEnv = {
  SPLUNK_HEC_ENDPOINT: 'https://127.0.0.1:8088/services/collector',
  SPLUNK_HEC_TOKEN: '00000000-0000-0000-0000-000000000000',
  ELASTICSEARCH_ENDPOINT: 'https://127.0.0.1:9200',
  ELASTICSEARCH_API_KEY: 'dummy-api-key',
};
/** `${kind:name}` as written in the config files. */
const ref = (inner: string) => '$' + `{${inner}}`;
const unsetEnv = Object.fromEntries(Object.keys(dummyEnv).map((k) => [k, '']));

let dir: string;
beforeAll(async () => {
  await ensureCollector();
  dir = await mkdtemp(join(tmpdir(), 'auditrelay-collector-config-'));
}, COLLECTOR_BUILD_TIMEOUT_MS);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('otel-collector.yaml', () => {
  it('is accepted by the Collector\'s validate command', async () => {
    const result = await validateCollectorConfig(productionConfig, dummyEnv);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('is refused when the SIEM endpoints are not in the environment', async () => {
    const result = await validateCollectorConfig(productionConfig, unsetEnv);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('splunk_hec');
    expect(result.output).toContain('elasticsearch');
  });

  it('keeps secrets out of the file and sets up what auditrelay relies on', async () => {
    const text = await readFile(productionConfig, 'utf8');
    const config = parse(text);
    expect(config.exporters.splunk_hec.token).toBe(ref('env:SPLUNK_HEC_TOKEN'));
    expect(config.exporters.elasticsearch.api_key).toBe(ref('env:ELASTICSEARCH_API_KEY'));
    expect(config.exporters.elasticsearch.mapping.mode).toBe('otel');
    expect(config.exporters.elasticsearch.logs_dynamic_id.enabled).toBe(true);
    for (const name of ['splunk_hec', 'elasticsearch']) {
      expect(config.exporters[name].sending_queue.storage).toBe('file_storage');
      expect(config.exporters[name].sending_queue.enabled).toBe(true);
    }
    expect(config.service.pipelines.logs.processors[0]).toBe('memory_limiter');
    expect(config.service.extensions).toContain('file_storage');
  });
});

describe('deploy/kubernetes', () => {
  const k8s = join(repo, 'deploy', 'kubernetes');
  const configMapData = async (file: string) => {
    const docs = parseAllDocuments(await readFile(join(k8s, file), 'utf8')).map((d) => d.toJS());
    const configMap = docs.find((d) => d?.kind === 'ConfigMap');
    const embedded = configMap?.data?.['config.yaml'];
    if (typeof embedded !== 'string') throw new Error(`${file}: no data.config.yaml`);
    return embedded;
  };

  it('runs exactly otel-collector.yaml in the sidecar (regenerate with make-collector-configmap.mjs)', async () => {
    expect(await configMapData('otel-collector-configmap.yaml')).toBe(await readFile(productionConfig, 'utf8'));
  });

  it('gives the sidecar every environment variable the Collector config needs', async () => {
    const deployment = parse(await readFile(join(k8s, 'deployment.yaml'), 'utf8'));
    const sidecar = deployment.spec.template.spec.containers.find((c: { name: string }) => c.name === 'otel-collector');
    const names = new Set((sidecar.env as { name: string }[]).map((e) => e.name));
    const uncommented = (await readFile(productionConfig, 'utf8'))
      .split('\n')
      .filter((line) => !line.trim().startsWith('#'))
      .join('\n');
    const required = [...uncommented.matchAll(/\$\{env:([A-Z0-9_]+)\}/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(0);
    for (const name of required) expect(names, name).toContain(name);
  });

  it('has an auditrelay config that auditrelay itself accepts (secrets read from the mounted files)', async () => {
    const text = await configMapData('auditrelay-configmap.yaml');
    expect(text).toContain(ref('file:/var/run/secrets/auditrelay/o365-client-secret'));
    await writeFile(join(dir, 'o365-client-secret'), 'dummy\n');
    const config = parseConfigText(text.replaceAll('/var/run/secrets/auditrelay/', `${dir}/`), 'auditrelay-configmap.yaml', dir, {});
    expect(config.export.endpoint).toBe('http://localhost:4318');
    expect(config.state.path).toBe('/var/lib/auditrelay/state');
    expect(config.sources.o365).toHaveLength(1);
  });
});
