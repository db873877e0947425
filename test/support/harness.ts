import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { type Daemon, startDaemon } from '../../src/daemon.ts';
import { type RunningEmulators, type StartEmulatorsOptions, startEmulators } from '../../src/emulators.ts';
import { silentLogger } from '../../src/telemetry/log.ts';
import { type OtlpSink, startOtlpSink } from './otlp-sink.ts';

/** The emulators, a local OTLP sink, and a working folder: what every end-to-end test starts from. */
export interface World {
  dir: string;
  emulators: RunningEmulators;
  sink: OtlpSink;
  close(): Promise<void>;
}

export async function startWorld(options: Partial<StartEmulatorsOptions> = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'auditrelay-it-'));
  const emulators = await startEmulators({ dir, seed: 7, faults: false, ...options });
  const sink = await startOtlpSink();
  return {
    dir,
    emulators,
    sink,
    async close() {
      await sink.close();
      await emulators.close();
    },
  };
}

/** The emulator's daemon config, pointed at the sink, with test-friendly timings. */
export function daemonConfig(world: World, tweak: (c: Config) => void = () => undefined): Config {
  const { config } = loadConfigFile(world.emulators.config);
  config.export.endpoint = world.sink.endpoint;
  config.export.retryInitial = 100;
  config.export.retryMax = 1000;
  config.log.level = 'silent';
  tweak(config);
  return config;
}

export async function startInProcess(config: Config): Promise<Daemon> {
  return startDaemon(config, silentLogger());
}

export const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

/** `auditrelay run` as a child process on the pinned Node, exporting to the sink. */
export function spawnDaemon(world: World, extraEnv: Record<string, string> = {}): ChildProcess {
  // An ephemeral telemetry port: test files run in parallel, and a fixed one collides.
  return spawn(process.execPath, [CLI, 'run', '--config', world.emulators.config, '--http-addr', '127.0.0.1:0'], {
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: world.sink.endpoint, ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Polls until `check` returns true; throws with `describe()` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out: ${describe()}`);
}

/**
 * Waits until every record the emulators had made available when this was called has reached the
 * sink. (They keep producing, so "nothing missing right now" would chase a moving target.)
 */
export async function waitForTruth(world: World, timeoutMs: number): Promise<string[]> {
  const snapshot = world.emulators.truth();
  await waitFor(
    () => snapshot.length > 0 && missing(snapshot, world.sink.uids()).length === 0,
    timeoutMs,
    () => `${missing(snapshot, world.sink.uids()).length} of ${snapshot.length} records made available are not in the sink`,
  );
  return snapshot;
}

/** Truth uids that the sink has not received. */
export function missing(truth: string[], received: string[]): string[] {
  const got = new Set(received);
  return truth.filter((uid) => !got.has(uid));
}

/** How many uids arrived more than once. */
export function duplicateCount(received: string[]): number {
  return received.length - new Set(received).size;
}
