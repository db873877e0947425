import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseJsonExact } from '../../sources/shared/mapping/attributes.ts';
import type { BodyValue } from '../../core/record.ts';
import { encodeRequest, ResourceCache, toLogRecord } from '../../export/encode.ts';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { PreviewEntry } from '../../sources/entry.ts';
import { SOURCE_KINDS, SOURCE_LIST, sourceOf } from '../../sources/index.ts';

/** One raw record (or activity) and where it was in the input, for error messages. */
export interface InputItem {
  value: BodyValue;
  where: string;
}

export interface InputProblem {
  where: string;
  message: string;
}

/** An array (a content blob) is records; a page of a listing (the source recognises it) is its records. */
function unwrap(value: BodyValue, where: string, out: InputItem[], unpage: PreviewEntry['unpage']): void {
  const records = Array.isArray(value) ? value : (unpage?.(value) as BodyValue[] | undefined);
  if (records === undefined) out.push({ value, where });
  else for (const [i, v] of records.entries()) out.push({ value: v, where: `${where}, item ${i + 1}` });
}

/**
 * Splits input into raw records: the whole text as one JSON document (a content blob's array, an
 * activities.list page, one record, pretty-printed or not), else newline-delimited JSON where each
 * line is a record, an array or a page. Unparseable lines are problems, named by line number.
 */
export function readInput(text: string, unpage?: PreviewEntry['unpage']): { items: InputItem[]; problems: InputProblem[] } {
  const items: InputItem[] = [];
  const problems: InputProblem[] = [];
  const trimmed = text.trim();
  if (trimmed === '') return { items, problems };
  try {
    unwrap(parseJsonExact(trimmed), 'input', items, unpage);
    return { items, problems };
  } catch {
    // Not one document: newline-delimited.
  }
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      unwrap(parseJsonExact(line), `line ${i + 1}`, items, unpage);
    } catch (err) {
      problems.push({ where: `line ${i + 1}`, message: `not JSON: ${(err as Error).message}` });
    }
  });
  return { items, problems };
}

export interface PreviewOptions {
  /** The source's kind (`--source`). */
  source: string;
  observedUnixMs: number;
  /** The source's own options (`--tenant`, `--customer`, ...), camel-cased. */
  [option: string]: unknown;
}

/**
 * Maps raw input to the OTLP/JSON ExportLogsServiceRequest the daemon would send: the source's own
 * mapping and resource, and the daemon's encoder.
 */
export async function preview(text: string, opts: PreviewOptions, resources = new ResourceCache()): Promise<{ json: string; problems: InputProblem[] }> {
  const source = sourceOf(opts.source);
  if (!source) throw new Error(`unknown source "${opts.source}" (known: ${SOURCE_KINDS.join(', ')})`);
  const map = await source.preview.load();
  const { items, problems } = readInput(text, source.preview.unpage);
  const logRecords: ReadableLogRecord[] = [];
  for (const item of items) {
    try {
      const { records, resource } = map(item.value, opts, opts.observedUnixMs);
      const cached = resources.for(resource);
      for (const record of records) logRecords.push(toLogRecord(record, cached));
    } catch (err) {
      problems.push({ where: item.where, message: (err as Error).message });
    }
  }
  const json = new TextDecoder().decode(encodeRequest(logRecords, 'http/json'));
  return { json, problems };
}

/** `auditrelay preview --source KIND [FILE|-]`: raw records in, the OTLP/JSON request out. */
export function registerPreview(program: Command): void {
  const command = program
    .command('preview')
    .description('map raw audit records (NDJSON, an array as in a content blob, or a page of a listing) and print the OTLP/JSON request the daemon would send')
    .argument('[file]', 'input file, or - for stdin', '-')
    .requiredOption('-s, --source <source>', SOURCE_KINDS.join(' or '));
  for (const source of SOURCE_LIST) for (const option of source.preview.options) command.option(option.flags, option.description);
  command
    .option('--observed <time>', 'observed timestamp to write, ISO 8601 (default: now), for reproducible output')
    .action(async (file: string, opts: { source: string; observed?: string } & Record<string, unknown>) => {
      if (!sourceOf(opts.source)) {
        process.stderr.write(`preview: --source must be ${SOURCE_KINDS.join(' or ')}, not "${opts.source}"\n`);
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
      const { json, problems } = await preview(text, { ...opts, source: opts.source, observedUnixMs });
      process.stdout.write(json + '\n');
      for (const p of problems) process.stderr.write(`preview: ${p.where}: ${p.message}\n`);
      if (problems.length > 0) process.exitCode = 1;
    });
}
