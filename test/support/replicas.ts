import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { createEmulatorTls } from '../../src/sources/shared/emulator/tls.ts';
import { TruthRegistry } from '../../src/sources/shared/emulator/truth.ts';
import { type O365Emulator, type O365EmulatorOptions, startO365Emulator } from '../../src/sources/o365/emulator/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const MAIN = join(ROOT, 'src/cli/main.ts');

/** Several Office 365 tenants (one emulator each) over one CA and one truth registry. */
export interface Tenants {
  emulators: O365Emulator[];
  truth: TruthRegistry;
  /** `sources.o365` entries pointing at the emulators. */
  entries: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startTenants(dir: string, count: number, options: O365EmulatorOptions, entry: Record<string, unknown> = {}): Promise<Tenants> {
  const tls = await createEmulatorTls(dir);
  const truth = new TruthRegistry();
  const emulators: O365Emulator[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const tenantDir = join(dir, `tenant-${i}`);
      mkdirSync(tenantDir, { recursive: true });
      emulators.push(await startO365Emulator({ tls, truth, dir: tenantDir, seed: 7100 + i, faults: false }, options));
    }
  } catch (err) {
    await Promise.allSettled(emulators.map((e) => e.close()));
    throw err;
  }
  const entries = emulators.map((e, i) => ({ ...e.configEntries[0], name: `tenant-${i}`, ...entry }));
  return { emulators, truth, entries, close: async () => void (await Promise.allSettled(emulators.map((e) => e.close()))) };
}

/** One parsed log line of a replica (pino JSON on stderr). */
export interface LogLine {
  level: string;
  msg: string;
  time: string;
  stream?: string;
  epoch?: number;
  [key: string]: unknown;
}

/** An `auditrelay run` child process. */
export interface ReplicaProcess {
  id: string;
  child: ChildProcess;
  logs: LogLine[];
  /** stderr lines that were not JSON (crash output). */
  other: string[];
  exited: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
}

/** Writes the replica's config and starts `auditrelay run` with the state URL in AUDITRELAY_STATE_URL. */
export function startReplica(dir: string, id: string, stateUrl: string, config: Record<string, unknown>): ReplicaProcess {
  const replicaDir = join(dir, id);
  mkdirSync(replicaDir, { recursive: true });
  const file = join(replicaDir, 'auditrelay.yaml');
  writeFileSync(file, stringify(config));
  const child = spawn(NODE, [MAIN, 'run', '--config', file, '--http-addr', '127.0.0.1:0'], {
    cwd: ROOT,
    env: { ...process.env, AUDITRELAY_STATE_URL: stateUrl, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: LogLine[] = [];
  const other: string[] = [];
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        other.push(line);
      }
    }
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { id, child, logs, other, exited, signal: (sig) => child.kill(sig) };
}
