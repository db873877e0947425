import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse, stringify } from 'yaml';
import { type OtlpSink, startOtlpSink } from '../support/otlp-sink.ts';
import { duplicateCount, exited, missing, spawnDaemon, type World } from '../support/harness.ts';

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

  constructor(world: World, rss: RssMonitor) {
    this.child = spawnDaemon(world);
    rss.watch(this.child.pid);
    const stderr = this.child.stderr;
    if (stderr) {
      createInterface({ input: stderr }).on('line', (line) => {
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

  /** SIGTERM, then the exit code (SIGKILL after `graceMs` if it hangs, which the caller sees as null). */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.exited();
    } finally {
      clearTimeout(timer);
    }
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
