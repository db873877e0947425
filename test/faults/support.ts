import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect } from 'vitest';
import { parse, stringify } from 'yaml';
import type { StartEmulatorsOptions } from '../../src/emulators.ts';
import { type OtlpSink, startOtlpSink } from '../support/otlp-sink.ts';
import { duplicateCount, exited, missing, spawnDaemon, startWorld, type World } from '../support/harness.ts';

/**
 * What every fault scenario is made of: the daemon as a child process (`auditrelay run`, so its
 * RSS is its own) with its log lines kept, an RSS sampler over `/proc/<pid>/status`, the records
 * the sink received across sink restarts, and one printed JSON line of figures per scenario.
 */

/** The config the emulators wrote, edited in place (the daemon reads it at each start). */
// biome-ignore lint/suspicious/noExplicitAny: a YAML document edited by path
export function editConfig(world: World, edit: (doc: any) => void): void {
  const path = world.emulators.config;
  const doc = parse(readFileSync(path, 'utf8'));
  edit(doc);
  writeFileSync(path, stringify(doc));
}

export interface ScenarioConfig {
  o365?: boolean;
  google?: boolean;
  /** Per Office 365 tenant entry. */
  // biome-ignore lint/suspicious/noExplicitAny: YAML
  tenant?: Record<string, any>;
  // biome-ignore lint/suspicious/noExplicitAny: YAML
  top?: Record<string, any>;
}

/** Quick export retries (the default cap is a minute), warn-level logs, and only the sources asked for. */
export function scenarioConfig(world: World, options: ScenarioConfig = {}): void {
  editConfig(world, (doc) => {
    doc.export = { ...doc.export, retryInitial: '200ms', retryMax: '2s' };
    doc.log = { level: 'warn' };
    doc.shutdownTimeout = '10s';
    if (options.o365 === false) doc.sources.o365 = [];
    if (options.google === false) doc.sources.google = [];
    for (const tenant of doc.sources.o365) Object.assign(tenant, { pollInterval: '1s', ...options.tenant });
    Object.assign(doc, options.top ?? {});
  });
}

/** Samples VmRSS of the watched processes every `everyMs`; keeps the peak overall and per phase. */
export class RssMonitor {
  readonly #pids = new Set<number>();
  readonly #timer: NodeJS.Timeout;
  #peakKb = 0;
  #phasePeakKb = 0;
  samples = 0;

  constructor(everyMs = 200) {
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  watch(pid: number | undefined): void {
    if (pid !== undefined) this.#pids.add(pid);
  }

  sample(): void {
    for (const pid of this.#pids) {
      const kb = vmRssKb(pid);
      if (kb === undefined) {
        this.#pids.delete(pid);
        continue;
      }
      this.samples++;
      this.#peakKb = Math.max(this.#peakKb, kb);
      this.#phasePeakKb = Math.max(this.#phasePeakKb, kb);
    }
  }

  /** Starts a phase (e.g. "while the sink is down"): `phasePeakMb` covers samples from here on. */
  startPhase(): void {
    this.sample();
    this.#phasePeakKb = 0;
  }

  get peakMb(): number {
    return Math.round(this.#peakKb / 102.4) / 10;
  }

  get phasePeakMb(): number {
    return Math.round(this.#phasePeakKb / 102.4) / 10;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

function vmRssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** One `auditrelay run`: its stderr read line by line (a pipe left unread would block its logging). */
export class DaemonRun {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  static readonly MAX_LINES = 20_000;
  static #runs = 0;

  constructor(world: World, rss: RssMonitor) {
    this.child = spawnDaemon(world);
    rss.watch(this.child.pid);
    // FAULT_LOG_DIR=/tmp/x keeps every daemon's whole log there, one file per run, to read after a failure.
    const dir = process.env['FAULT_LOG_DIR'];
    const file = dir ? join(dir, `daemon-${process.pid}-${++DaemonRun.#runs}.log`) : undefined;
    if (dir) mkdirSync(dir, { recursive: true });
    const stderr = this.child.stderr;
    if (stderr) {
      createInterface({ input: stderr }).on('line', (line) => {
        if (file) appendFileSync(file, `${line}\n`);
        if (this.lines.length < DaemonRun.MAX_LINES) this.lines.push(line);
      });
    }
  }

  /** Log lines (raw text) matching `pattern`. */
  grep(pattern: RegExp): string[] {
    return this.lines.filter((l) => pattern.test(l));
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  exited(): Promise<number | null> {
    return exited(this.child);
  }

  /** The exit code if it exits within `ms`; otherwise SIGKILL and null. */
  async exitedWithin(ms: number): Promise<number | null> {
    const timer = setTimeout(() => this.kill('SIGKILL'), ms);
    try {
      return await this.exited();
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then the exit code (SIGKILL after `graceMs` if it hangs, which the caller sees as null). */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.kill('SIGTERM');
    return this.exitedWithin(graceMs);
  }
}

/** Every uid any sink of the scenario received (the sink may be closed and started again). */
export class Received {
  readonly #closed: string[][] = [];
  readonly world: World;
  constructor(world: World) {
    this.world = world;
  }

  uids(): string[] {
    return [...this.#closed.flat(), ...this.world.sink.uids()];
  }

  /** Takes the sink down (connections refused from now on). */
  async down(): Promise<number> {
    const port = Number(new URL(this.world.sink.endpoint).port);
    this.#closed.push([...this.world.sink.uids()]);
    await this.world.sink.close();
    return port;
  }

  /** Brings a fresh sink up on the same port; the world's `close()` still closes the first one. */
  async up(port: number): Promise<OtlpSink> {
    const sink = await startOtlpSink({ port });
    this.world.sink = sink;
    return sink;
  }
}

/**
 * Waits until every uid in `truth` was received, or `timeoutMs` passed; never throws, so the
 * figures are printed either way. Returns the uids still missing.
 */
export async function settle(truth: string[], received: () => string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let left = missing(truth, received());
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    left = missing(left, received());
  }
  return left;
}

/** Waits for `check`, bounded; false if it never held. */
export async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Figures {
  scenario: string;
  lost: number;
  duplicates: number;
  peak_rss_mb: number;
  records: number;
  [extra: string]: unknown;
}

/** Prints the scenario's line (JSON on stdout) and returns the figures for the assertions. */
export function report(scenario: string, truth: string[], received: string[], rss: RssMonitor, extra: Record<string, unknown> = {}): Figures {
  rss.sample();
  const figures: Figures = {
    scenario,
    lost: missing(truth, received).length,
    duplicates: duplicateCount(received),
    peak_rss_mb: rss.peakMb,
    records: truth.length,
    ...extra,
  };
  console.log(JSON.stringify(figures));
  return figures;
}

/** A small seeded generator, so a run's kill moments can be replayed (`FAULT_SEED=...`). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** The Office 365 stream state files of a state folder (`o365%2F<tenant>%2F<contentType>.state`). */
export const O365_STATE_FILE = /^o365%2F.+\.state$/;

/** A scenario's world (emulators, sink, config), RSS monitor and received records. */
export interface Scene {
  world: World;
  rss: RssMonitor;
  received: Received;
}

/**
 * Registers the clean-up of each test's scene and returns the function that builds one: emulators
 * and sink, the config edited for fault scenarios, an RSS monitor. Daemons are started by the test.
 */
export function useScenes(): (options: Partial<StartEmulatorsOptions>, config?: ScenarioConfig) => Promise<Scene> {
  let open: Scene | undefined;
  afterEach(async () => {
    open?.rss.stop();
    await open?.world.close();
    open = undefined;
  });
  return async (options, config) => {
    const world = await startWorld(options);
    scenarioConfig(world, config);
    open = { world, rss: new RssMonitor(), received: new Received(world) };
    return open;
  };
}

export interface Outcome {
  figures: Figures;
  /** Truth uids still missing when the wait ended. */
  left: string[];
  /** The daemon's exit code after SIGTERM. */
  code: number | null;
}

/**
 * The end of most scenarios: takes the truth now, waits (bounded) for all of it at the sink, stops
 * the daemon, prints the figures (`extra` is read after the stop, so it may count log lines).
 */
export async function finish(scene: Scene, run: DaemonRun, scenario: string, timeoutMs: number, extra: () => Record<string, unknown> = () => ({})): Promise<Outcome> {
  const truth = scene.world.emulators.truth();
  const left = await settle(truth, () => scene.received.uids(), timeoutMs);
  const code = await run.stop();
  const figures = report(scenario, truth, scene.received.uids(), scene.rss, extra());
  if (left.length > 0) explainLoss(scenario, run, left, code);
  return { figures, left, code };
}

/**
 * What CI needs to tell why records were missing: the daemon's exit code, its last log lines (warn and
 * above first, then the very last ones) and a few of the missing uids, on stdout next to the figures.
 */
function explainLoss(scenario: string, run: DaemonRun, left: string[], code: number | null): void {
  const serious = run.lines.filter((l) => !/"level":"(trace|debug|info)"/.test(l));
  console.log(
    JSON.stringify({
      scenario,
      diagnosis: 'records missing',
      exit_code: code,
      log_lines: run.lines.length,
      missing_sample: left.slice(0, 5),
      last_warnings: serious.slice(-25),
      last_lines: run.lines.slice(-15),
    }, null, 1),
  );
}

/** Every record arrived and the daemon stopped cleanly. */
export function expectNothingLost(outcome: Outcome): void {
  expect(outcome.left.length).toBe(0);
  expect(outcome.figures.lost).toBe(0);
  expect(outcome.code).toBe(0);
}
