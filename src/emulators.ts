import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { SOURCE_KINDS, SOURCE_LIST, type Sources } from './sources/index.ts';
import type { EmulatorContext, SourceEmulator } from './sources/shared/emulator/context.ts';
import { createEmulatorTls } from './sources/shared/emulator/tls.ts';
import { TruthRegistry } from './sources/shared/emulator/truth.ts';

/**
 * Starts every source's API emulator (the registry's) over one CA and one truth registry, and writes
 * a daemon config that points at them. Used by `auditrelay emulate`, `auditrelay demo`, the
 * integration tests and the benchmark.
 */
type EmulatorOf<E> = E extends { emulator: { start(context: EmulatorContext, options: never): Promise<infer R> } } ? R : never;
type EmulatorOptionsOf<E> = E extends { emulator: { start(context: EmulatorContext, options: infer O): Promise<unknown> } } ? O : never;

export type StartEmulatorsOptions = {
  /** Where ca.pem, the daemon config, credential files and the daemon state folder go. */
  dir: string;
  seed: number;
  faults: boolean;
  /** A set-up problem to stage for `auditrelay doctor` (see KNOWN_STAGES). */
  stage?: string;
} & { [K in keyof Sources]?: EmulatorOptionsOf<Sources[K]> };

/** Each source's emulator base URL (under its kind), and the rest. */
export type RunningEmulators = { [K in keyof Sources]: string } & {
  /** Path of the CA certificate the servers' certificates chain to. */
  ca: string;
  /** Path of a daemon config YAML pointing at the emulators. */
  config: string;
  /** Uids of every record made available so far, all sources together. */
  truth(): string[];
  /** The per-source handles, for tests that switch faults or read credentials. */
  sources: { [K in keyof Sources]: EmulatorOf<Sources[K]> };
  close(): Promise<void>;
};

/** Every stage any source understands (a stage no source knows is a typo: refuse it). */
export const KNOWN_STAGES: readonly string[] = [...new Set(SOURCE_LIST.flatMap((s) => s.emulator.stages))];

export async function startEmulators(options: StartEmulatorsOptions): Promise<RunningEmulators> {
  if (options.stage !== undefined && !KNOWN_STAGES.includes(options.stage)) {
    throw new Error(`unknown stage "${options.stage}" (known: ${KNOWN_STAGES.join(', ')})`);
  }
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const tls = await createEmulatorTls(dir);
  const truth = new TruthRegistry();
  const context: EmulatorContext = { tls, truth, dir, seed: options.seed, faults: options.faults, stage: options.stage };

  const started: Record<string, SourceEmulator> = {};
  try {
    for (const source of SOURCE_LIST) {
      const own = (options as Record<string, unknown>)[source.kind] ?? {};
      started[source.kind] = await source.emulator.start(context, own as never);
    }
    const config = join(dir, 'auditrelay.yaml');
    writeDaemonConfig(config, dir, Object.fromEntries(SOURCE_KINDS.map((k) => [k, started[k]!.configEntries])));
    const urls = Object.fromEntries(SOURCE_KINDS.map((k) => [k, started[k]!.url]));
    return {
      ...urls,
      ca: tls.caPath,
      config,
      truth: () => truth.list(),
      sources: started,
      close: () => closeAll(Object.values(started)),
    } as RunningEmulators;
  } catch (err) {
    await closeAll(Object.values(started));
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
