import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { GOOGLE_STAGES, type GoogleEmulator, type GoogleEmulatorOptions, startGoogleEmulator } from '../sources/google/emulator/index.ts';
import { type O365Emulator, type O365EmulatorOptions, O365_STAGES, startO365Emulator } from '../sources/o365/emulator/index.ts';
import type { EmulatorContext, SourceEmulator } from '../sources/shared/emulator/context.ts';
import { createEmulatorTls } from '../sources/shared/emulator/tls.ts';
import { TruthRegistry } from '../sources/shared/emulator/truth.ts';

/**
 * Starts every API emulator over one CA and one truth registry, and writes a daemon config that
 * points at them. Used by `auditrelay emulate`, `auditrelay demo`, the integration tests and the
 * benchmark.
 *
 * Adding a source (e.g. the Google emulator in src/sources/google/emulator/): import its start
 * function and stage names, add its options below, start it next to Office 365 in
 * `startEmulators`, and put it in `sources` under its config key. Nothing else changes.
 */
export interface StartEmulatorsOptions {
  /** Where ca.pem, the daemon config, credential files and the daemon state folder go. */
  dir: string;
  seed: number;
  faults: boolean;
  /** A set-up problem to stage for `auditrelay doctor` (see KNOWN_STAGES). */
  stage?: string;
  o365?: O365EmulatorOptions;
  google?: GoogleEmulatorOptions;
}

export interface RunningEmulators {
  /** Office 365 emulator base URL (serves both the Entra login endpoints and the API). */
  o365: string;
  google: string;
  /** Path of the CA certificate the servers' certificates chain to. */
  ca: string;
  /** Path of a daemon config YAML pointing at the emulators. */
  config: string;
  /** Uids of every record made available so far, all sources together. */
  truth(): string[];
  /** The per-source handles, for tests that switch faults or read credentials. */
  sources: { o365: O365Emulator; google: GoogleEmulator };
  close(): Promise<void>;
}

/** Every stage any source understands (a stage no source knows is a typo: refuse it). */
export const KNOWN_STAGES: readonly string[] = [...new Set([...O365_STAGES, ...GOOGLE_STAGES])];

export async function startEmulators(options: StartEmulatorsOptions): Promise<RunningEmulators> {
  if (options.stage !== undefined && !KNOWN_STAGES.includes(options.stage)) {
    throw new Error(`unknown stage "${options.stage}" (known: ${KNOWN_STAGES.join(', ')})`);
  }
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const tls = await createEmulatorTls(dir);
  const truth = new TruthRegistry();
  const context: EmulatorContext = { tls, truth, dir, seed: options.seed, faults: options.faults, stage: options.stage };

  const started: SourceEmulator[] = [];
  try {
    const o365 = await startO365Emulator(context, options.o365 ?? {});
    started.push(o365);
    const google = await startGoogleEmulator(context, options.google ?? {});
    started.push(google);

    const config = join(dir, 'auditrelay.yaml');
    writeDaemonConfig(config, dir, { o365: o365.configEntries, google: google.configEntries });
    return {
      o365: o365.url,
      google: google.url,
      ca: tls.caPath,
      config,
      truth: () => truth.list(),
      sources: { o365, google },
      close: () => closeAll(started),
    };
  } catch (err) {
    await closeAll(started);
    throw err;
  }
}

/**
 * The daemon config: `export` is left empty so the daemon falls back to OTEL_EXPORTER_OTLP_* or its
 * defaults, and the state folder lives inside `dir` so a fresh emulator means fresh state.
 */
function writeDaemonConfig(path: string, dir: string, sources: Record<string, Record<string, unknown>[]>): void {
  const doc = {
    state: { kind: 'file', path: join(dir, 'state') },
    export: {},
    sources,
  };
  writeFileSync(path, `# Written by auditrelay emulate: points at local API emulators.\n${stringify(doc)}`);
}

async function closeAll(started: SourceEmulator[]): Promise<void> {
  await Promise.allSettled(started.map((s) => s.close()));
}
