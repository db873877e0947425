/**
 * A real OpenTelemetry Collector for tests.
 *
 *   beforeAll(async () => { await ensureCollector(); }, COLLECTOR_BUILD_TIMEOUT_MS);   // builds once per machine
 *
 *   const collector = await startCollector(dir);        // dir: a fresh temporary folder of the test
 *   // point the code under test at collector.endpoint (http://127.0.0.1:<port>; POST …/v1/logs)
 *   const records = await collector.waitForRecords(3);  // what the Collector's file exporter wrote
 *   await collector.stop();
 *
 * The Collector is the binary from test/collector/ensure-collector.sh (built from builder-config.yaml
 * and cached outside the repository). Each `startCollector` runs its own process with:
 *   - the OTLP receiver, HTTP only, on 127.0.0.1 and a free port (protobuf and JSON, gzip or not);
 *   - no processors, so a record is in the file as soon as the exporter's flush interval (100 ms) ends;
 *   - the `file` exporter writing one OTLP/JSON ExportLogsServiceRequest per line to
 *     `<dir>/otlp-logs.jsonl`, which `readRecords()` flattens into one object per log record;
 *   - its own telemetry off (no :8888 listener, so several Collectors can run at once);
 *   - its log in `<dir>/collector.log` (also in the error thrown when it does not start).
 * A 200 from this Collector means the record was handed to the file exporter.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const execFileAsync = promisify(execFile);

/** Enough for a first build on a fresh 2-core machine (measured: a few minutes; cached afterwards). */
export const COLLECTOR_BUILD_TIMEOUT_MS = 20 * 60_000;

/** One OTLP log record as the Collector wrote it, with AnyValues turned into plain JS values. */
export interface CollectorLogRecord {
  /** Nanoseconds since the Unix epoch, as the decimal string OTLP/JSON uses ("0" when unset). */
  timeUnixNano: string;
  observedTimeUnixNano: string;
  /** `timeUnixNano` in milliseconds (exact for auditrelay's millisecond timestamps). */
  timeUnixMs: number;
  observedUnixMs: number;
  severityNumber?: number;
  severityText?: string;
  eventName?: string;
  body: unknown;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  scope: { name?: string; version?: string; attributes: Record<string, unknown> };
  /** The record exactly as the file exporter wrote it (OTLP/JSON), for checks the fields above omit. */
  raw: OtlpJsonLogRecord;
}

export interface StartedCollector {
  /** Base URL of the OTLP/HTTP receiver, e.g. http://127.0.0.1:43817 (auditrelay appends /v1/logs). */
  endpoint: string;
  /** `${endpoint}/v1/logs` */
  logsUrl: string;
  /** The JSON-lines file the file exporter writes. */
  outputFile: string;
  /** The Collector's own log file. */
  logFile: string;
  /** The config the Collector runs with (written to `<dir>/collector-config.yaml`). */
  configFile: string;
  /** Every log record written so far, in file order ([] before the first write). */
  readRecords(): Promise<CollectorLogRecord[]>;
  /** Polls `readRecords()` until at least `count` records are there; rejects after `timeoutMs` (default 30 s). */
  waitForRecords(count: number, options?: { timeoutMs?: number; intervalMs?: number }): Promise<CollectorLogRecord[]>;
  /** The Collector's log so far (its stdout and stderr). */
  log(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s). Safe to call twice. */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Exit code/signal once stopped or crashed, else undefined. */
  readonly exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

export interface StartCollectorOptions {
  /** Milliseconds to wait for "Everything is ready" (default 60 s). */
  startTimeoutMs?: number;
  /** The file exporter's flush interval (default 100ms). */
  flushInterval?: string;
}

let binaryPromise: Promise<string> | undefined;

/**
 * Path of the Collector binary, building it (minutes, once per machine) when the cached one is missing.
 * Call it from `beforeAll` with `COLLECTOR_BUILD_TIMEOUT_MS`; later calls in the same process are free.
 */
export function ensureCollector(): Promise<string> {
  binaryPromise ??= (async () => {
    const script = join(here, 'ensure-collector.sh');
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    const path = stdout.trim().split('\n').at(-1) ?? '';
    if (code !== 0 || !path || !existsSync(path)) {
      throw new Error(`ensure-collector.sh failed (exit ${code}); its progress is on stderr above`);
    }
    return path;
  })();
  binaryPromise.catch(() => {
    binaryPromise = undefined; // let a later call try again
  });
  return binaryPromise;
}

/** Runs `<collector> validate --config <file>`; resolves with its exit code and output (never rejects on exit 1). */
export async function validateCollectorConfig(
  configFile: string,
  env: Record<string, string> = {},
): Promise<{ ok: boolean; code: number; output: string }> {
  const bin = await ensureCollector();
  try {
    const { stdout, stderr } = await execFileAsync(bin, ['validate', `--config=${configFile}`], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { ok: true, code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { ok: false, code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** A currently free TCP port on 127.0.0.1 (the OS picks it; the Collector binds it right after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function testConfig(port: number, outputFile: string, flushInterval: string): string {
  // JSON is valid YAML: no quoting surprises with paths.
  const config = {
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${port}` } } } },
    exporters: { file: { path: outputFile, format: 'json', flush_interval: flushInterval } },
    service: {
      pipelines: { logs: { receivers: ['otlp'], exporters: ['file'] } },
      telemetry: { metrics: { level: 'none' }, logs: { level: 'info' } },
    },
  };
  return JSON.stringify(config, null, 2) + '\n';
}

/**
 * Starts a Collector writing to `dir` (must exist; use a fresh temporary folder per Collector).
 * Resolves once it logged "Everything is ready"; rejects with its log if it exits or times out first.
 * A port taken between choosing and binding is retried with another port (3 attempts).
 */
export async function startCollector(dir: string, options: StartCollectorOptions = {}): Promise<StartedCollector> {
  const bin = await ensureCollector();
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(bin, dir, await freePort(), options);
    } catch (err) {
      lastError = err;
      if (!/address already in use/.test(String(err))) throw err;
    }
  }
  throw lastError;
}

async function startOnce(bin: string, dir: string, port: number, options: StartCollectorOptions): Promise<StartedCollector> {
  const outputFile = join(dir, 'otlp-logs.jsonl');
  const logFile = join(dir, 'collector.log');
  const configFile = join(dir, 'collector-config.yaml');
  await writeFile(configFile, testConfig(port, outputFile, options.flushInterval ?? '100ms'));

  const child = spawn(bin, [`--config=${configFile}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const logStream = createWriteStream(logFile, { flags: 'a' });
  const onData = (chunk: string) => {
    output += chunk;
    logStream.write(chunk);
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);

  let exited: StartedCollector['exited'];
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  // Never leave a Collector behind when the test process ends without calling stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), startTimeoutMs);
    const check = () => {
      if (output.includes('Everything is ready')) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    void exitPromise.then(() => {
      clearTimeout(timer);
      resolve(output.includes('Everything is ready'));
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (stopOptions: { graceMs?: number } = {}): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), stopOptions.graceMs ?? 10_000);
        await exitPromise;
        clearTimeout(timer);
      }
      process.removeListener('exit', killOnExit);
      await new Promise<void>((resolve) => logStream.end(resolve));
    })();
    return stopping;
  };

  if (!ready || exited) {
    await stop({ graceMs: 2_000 });
    throw new Error(
      `Collector did not start (${exited ? `exit ${exited.code ?? exited.signal}` : `not ready after ${startTimeoutMs} ms`}); its log:\n${output}`,
    );
  }

  const endpoint = `http://127.0.0.1:${port}`;
  const readRecords = () => readRecordsFrom(outputFile);
  return {
    endpoint,
    logsUrl: `${endpoint}/v1/logs`,
    outputFile,
    logFile,
    configFile,
    readRecords,
    async waitForRecords(count, waitOptions = {}) {
      const deadline = Date.now() + (waitOptions.timeoutMs ?? 30_000);
      for (;;) {
        const records = await readRecords();
        if (records.length >= count) return records;
        if (exited) throw new Error(`Collector exited (${exited.code ?? exited.signal}) with ${records.length}/${count} records; its log:\n${output}`);
        if (Date.now() > deadline) throw new Error(`${records.length}/${count} records after ${waitOptions.timeoutMs ?? 30_000} ms in ${outputFile}`);
        await new Promise((resolve) => setTimeout(resolve, waitOptions.intervalMs ?? 100));
      }
    },
    log: () => output,
    stop,
    get exited() {
      return exited;
    },
  };
}

// ---- OTLP/JSON (as the file exporter writes it) -> plain objects ----

export interface OtlpJsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  bytesValue?: string;
  arrayValue?: { values?: OtlpJsonAnyValue[] };
  kvlistValue?: { values?: OtlpJsonKeyValue[] };
}
export interface OtlpJsonKeyValue {
  key: string;
  value?: OtlpJsonAnyValue;
}
export interface OtlpJsonLogRecord {
  timeUnixNano?: string;
  observedTimeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  eventName?: string;
  body?: OtlpJsonAnyValue;
  attributes?: OtlpJsonKeyValue[];
  traceId?: string;
  spanId?: string;
  flags?: number;
}
interface OtlpJsonRequest {
  resourceLogs?: {
    resource?: { attributes?: OtlpJsonKeyValue[] };
    scopeLogs?: {
      scope?: { name?: string; version?: string; attributes?: OtlpJsonKeyValue[] };
      logRecords?: OtlpJsonLogRecord[];
    }[];
  }[];
}

/** AnyValue -> JS: ints become numbers (strings when beyond 2^53), kvlists objects, bytes base64 strings. */
export function fromAnyValue(value: OtlpJsonAnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) {
    const n = Number(value.intValue);
    return Number.isSafeInteger(n) ? n : String(value.intValue);
  }
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(fromAnyValue);
  if (value.kvlistValue !== undefined) return fromKeyValues(value.kvlistValue.values);
  return null; // an empty AnyValue
}

export function fromKeyValues(list: OtlpJsonKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = fromAnyValue(kv.value);
  return out;
}

const nanosToMs = (nanos: string | undefined) => Number(BigInt(nanos ?? '0') / 1_000_000n);

/** Parses the file exporter's JSON lines; tolerates a last line still being written. */
export async function readRecordsFrom(file: string): Promise<CollectorLogRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines = text.split('\n');
  const records: CollectorLogRecord[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let request: OtlpJsonRequest;
    try {
      request = JSON.parse(line) as OtlpJsonRequest;
    } catch (err) {
      if (index === lines.length - 1) return; // partial last line: read it next time
      throw new Error(`${file}:${index + 1}: not JSON: ${(err as Error).message}`);
    }
    for (const rl of request.resourceLogs ?? []) {
      const resource = fromKeyValues(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        const scope = { name: sl.scope?.name, version: sl.scope?.version, attributes: fromKeyValues(sl.scope?.attributes) };
        for (const raw of sl.logRecords ?? []) {
          records.push({
            timeUnixNano: raw.timeUnixNano ?? '0',
            observedTimeUnixNano: raw.observedTimeUnixNano ?? '0',
            timeUnixMs: nanosToMs(raw.timeUnixNano),
            observedUnixMs: nanosToMs(raw.observedTimeUnixNano),
            severityNumber: raw.severityNumber,
            severityText: raw.severityText,
            eventName: raw.eventName,
            body: fromAnyValue(raw.body),
            attributes: fromKeyValues(raw.attributes),
            resource,
            scope,
            raw,
          });
        }
      }
    }
  });
  return records;
}
