import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseJsonExact } from '../../sources/shared/mapping/attributes.ts';
import type { BodyValue } from '../../core/record.ts';
import { DEFAULT_SIEM } from '../../config/siem.ts';
import { encodeRequest, ResourceCache, toLogRecord } from '../../export/encode.ts';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { googleResource, mapGoogleActivity } from '../../sources/google/mapping/index.ts';
import { isObject } from '../../sources/shared/mapping/flatten.ts';
import { mapO365Record, o365Resource } from '../../sources/o365/mapping/index.ts';

type Json = Record<string, unknown>;

/** One raw record (or activity) and where it was in the input, for error messages. */
export interface InputItem {
  value: BodyValue;
  where: string;
}

export interface InputProblem {
  where: string;
  message: string;
}

/** A content blob is an array of records; an activities.list page is `{kind, items: [...]}`. */
function unwrap(value: BodyValue, where: string, out: InputItem[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ value: v, where: `${where}, item ${i + 1}` });
    });
  } else if (isObject(value) && Array.isArray(value['items']) && !('Id' in value)) {
    (value['items'] as BodyValue[]).forEach((v, i) => {
      out.push({ value: v, where: `${where}, item ${i + 1}` });
    });
  } else if (isObject(value) && String(value['kind'] ?? '') === 'admin#reports#activities') {
    // A page without items: an empty window, nothing to map.
  } else {
    out.push({ value, where });
  }
}

/**
 * Splits input into raw records: the whole text as one JSON document (a content blob's array, an
 * activities.list page, one record, pretty-printed or not), else newline-delimited JSON where each
 * line is a record, an array or a page. Unparseable lines are problems, named by line number.
 */
export function readInput(text: string): { items: InputItem[]; problems: InputProblem[] } {
  const items: InputItem[] = [];
  const problems: InputProblem[] = [];
  const trimmed = text.trim();
  if (trimmed === '') return { items, problems };
  try {
    unwrap(parseJsonExact(trimmed), 'input', items);
    return { items, problems };
  } catch {
    // Not one document: newline-delimited.
  }
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      unwrap(parseJsonExact(line), `line ${i + 1}`, items);
    } catch (err) {
      problems.push({ where: `line ${i + 1}`, message: `not JSON: ${(err as Error).message}` });
    }
  });
  return { items, problems };
}

/** The content type a record's workload is published under, when the user did not say. */
function contentTypeOf(record: Json): string {
  // DlpRuleMatch, DlpRuleUndo, DlpInfo; SharePoint and OneDrive write DLPRuleMatch.
  if (Array.isArray(record['PolicyDetails']) && /^dlp/i.test(String(record['Operation'] ?? ''))) return 'DLP.All';
  switch (record['Workload']) {
    case 'AzureActiveDirectory':
      return 'Audit.AzureActiveDirectory';
    case 'Exchange':
      return 'Audit.Exchange';
    case 'SharePoint':
    case 'OneDrive':
      return 'Audit.SharePoint';
    default:
      return 'Audit.General';
  }
}

export interface PreviewOptions {
  source: 'o365' | 'google';
  tenant?: string;
  contentType?: string;
  customer?: string;
  application?: string;
  observedUnixMs: number;
}

/**
 * Maps raw input to the OTLP/JSON ExportLogsServiceRequest the daemon would send: the same mapping
 * functions, resource functions and encoder as the daemon's export path.
 */
export function preview(text: string, opts: PreviewOptions, resources = new ResourceCache()): { json: string; problems: InputProblem[] } {
  const { items, problems } = readInput(text);
  const logRecords: ReadableLogRecord[] = [];
  for (const item of items) {
    try {
      const raw = item.value;
      const fields = isObject(raw) ? raw : {};
      if (opts.source === 'o365') {
        const tenantId = opts.tenant ?? (typeof fields['OrganizationId'] === 'string' ? fields['OrganizationId'] : 'unknown-tenant');
        const record = mapO365Record(raw, {
          tenantId,
          contentType: opts.contentType ?? contentTypeOf(fields),
          observedUnixMs: opts.observedUnixMs,
          siem: DEFAULT_SIEM,
        });
        logRecords.push(toLogRecord(record, resources.for(o365Resource(tenantId))));
      } else {
        const id = isObject(fields['id']) ? fields['id'] : {};
        const customerId = opts.customer ?? (typeof id['customerId'] === 'string' ? id['customerId'] : 'my_customer');
        const application = opts.application ?? (typeof id['applicationName'] === 'string' ? id['applicationName'] : 'unknown');
        const records = mapGoogleActivity(raw, { customerId, application, observedUnixMs: opts.observedUnixMs, siem: DEFAULT_SIEM });
        const resource = resources.for(googleResource(customerId));
        for (const record of records) logRecords.push(toLogRecord(record, resource));
      }
    } catch (err) {
      problems.push({ where: item.where, message: (err as Error).message });
    }
  }
  const json = new TextDecoder().decode(encodeRequest(logRecords, 'http/json'));
  return { json, problems };
}

/** `auditrelay preview --source o365|google [FILE|-]`: raw records in, the OTLP/JSON request out. */
export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description('map raw audit records (NDJSON, a content blob array or an activities.list page) and print the OTLP/JSON request the daemon would send')
    .argument('[file]', 'input file, or - for stdin', '-')
    .requiredOption('-s, --source <source>', 'o365 or google')
    .option('--tenant <id>', 'Office 365 tenant id (default: each record\'s OrganizationId)')
    .option('--content-type <type>', 'Office 365 content type (default: from each record\'s Workload)')
    .option('--customer <id>', 'Google customer id (default: each activity\'s id.customerId)')
    .option('--application <name>', 'Google application (default: each activity\'s id.applicationName)')
    .option('--observed <time>', 'observed timestamp to write, ISO 8601 (default: now), for reproducible output')
    .action((file: string, opts: { source: string; tenant?: string; contentType?: string; customer?: string; application?: string; observed?: string }) => {
      if (opts.source !== 'o365' && opts.source !== 'google') {
        process.stderr.write(`preview: --source must be o365 or google, not "${opts.source}"\n`);
        process.exitCode = 1;
        return;
      }
      const observedUnixMs = opts.observed === undefined ? Date.now() : Date.parse(opts.observed);
      if (Number.isNaN(observedUnixMs)) {
        process.stderr.write(`preview: --observed "${opts.observed}" is not a date-time\n`);
        process.exitCode = 1;
        return;
      }
      const text = readFileSync(file === '-' ? 0 : file, 'utf8');
      const { json, problems } = preview(text, { ...opts, source: opts.source, observedUnixMs });
      process.stdout.write(json + '\n');
      for (const p of problems) process.stderr.write(`preview: ${p.where}: ${p.message}\n`);
      if (problems.length > 0) process.exitCode = 1;
    });
}
