import type { ExportConfig } from '../export/config.ts';
import { encodeRequest } from '../export/encode.ts';
import type { ExportOutcome } from '../export/outcome.ts';
import { OtlpSender } from '../export/otlp-sender.ts';
import { type OtlpSettings, resolveOtlpSettings } from '../export/otlp-settings.ts';
import { type Finding, finding } from '../sources/checks.ts';

/**
 * The export endpoint, reached the way the daemon reaches it: the resolved settings (config, then
 * OTEL_EXPORTER_OTLP_*), the daemon's sender, and an ExportLogsServiceRequest with no records.
 * Any HTTP answer proves the endpoint is reachable; what it means for real exports is judged here.
 */
export function exportFinding(settings: Pick<OtlpSettings, 'url' | 'protocol'>, outcome: ExportOutcome): Finding {
  const target = 'export';
  const where = `${settings.url} (${settings.protocol})`;
  if (outcome.kind === 'accepted' || outcome.kind === 'partial') return finding('export.reachable', target, 'ok', `${where} accepted an empty request`);
  if (outcome.kind === 'bad-data' || outcome.kind === 'too-large') {
    return finding('export.reachable', target, 'ok', `${where} is reachable (answered ${outcome.reason} to an empty request)`);
  }
  const status = /^HTTP (\d{3})/.exec(outcome.reason)?.[1];
  if (!status) {
    return finding(
      'export.reachable',
      target,
      'fail',
      `${where} unreachable: ${outcome.reason}`,
      'start the collector, or set export.endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT) to where it listens; check tls.ca for https',
    );
  }
  if (status === '401' || status === '403') {
    return finding('export.reachable', target, 'fail', `${where} refused our credentials: ${outcome.reason}`, 'check export.headers (or OTEL_EXPORTER_OTLP_HEADERS): the API key or token the collector expects');
  }
  if (status === '404' || status === '405') {
    return finding(
      'export.reachable',
      target,
      'fail',
      `${where} has no OTLP logs endpoint at this path: ${outcome.reason}`,
      'give the base URL (…/v1/logs is appended) or set export.logsPathIsFull for a full logs URL',
    );
  }
  if (outcome.misconfigured) {
    return finding('export.reachable', target, 'fail', `${where} refused the request: ${outcome.reason}`, 'check export.endpoint, export.headers and the collector\'s receiver settings');
  }
  return finding('export.reachable', target, 'warn', `${where} is reachable but failing: ${outcome.reason}`, 'the collector is overloaded or unhealthy: the daemon will retry and hold data meanwhile; check the collector');
}

export async function checkExport(config: ExportConfig, env: NodeJS.ProcessEnv = process.env): Promise<Finding> {
  if (config.mode === 'console') return finding('export.reachable', 'export', 'ok', 'console mode: records go to stdout, nothing to reach');
  let settings: OtlpSettings;
  try {
    settings = resolveOtlpSettings(config, env);
  } catch (err) {
    return finding('export.reachable', 'export', 'fail', `export settings unusable: ${(err as Error).message}`, 'check export.tls and OTEL_EXPORTER_OTLP_*CERTIFICATE/KEY paths');
  }
  const sender = new OtlpSender(settings);
  try {
    return exportFinding(settings, await sender.send(encodeRequest([], settings.protocol)));
  } finally {
    await sender.close();
  }
}
