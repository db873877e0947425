// Regenerates otel-collector-configmap.yaml from the repository's otel-collector.yaml, so the sidecar
// runs exactly the tested production profile (test/collector/production-config.test.ts checks they match).
//   node deploy/kubernetes/make-collector-configmap.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const config = readFileSync(join(here, '..', '..', 'otel-collector.yaml'), 'utf8');
const indented = config
  .split('\n')
  .map((line) => (line === '' ? '' : `    ${line}`))
  .join('\n');
const out = `# GENERATED from otel-collector.yaml by make-collector-configmap.mjs: edit that file, then rerun.
# Mounted at /etc/otelcol-contrib/config.yaml in the otel-collector container. Secrets and addresses
# come from that container's environment (deployment.yaml), never from here.
apiVersion: v1
kind: ConfigMap
metadata:
  name: otel-collector-config
  labels:
    app.kubernetes.io/name: auditrelay
data:
  config.yaml: |
${indented.replace(/\n+$/, '')}
`;
writeFileSync(join(here, 'otel-collector-configmap.yaml'), out);
