import type { z } from 'zod';
import type { AuditRecord } from '../core/record.ts';
import type { Source, StreamState } from '../core/source.ts';
import type { StoredView } from '../telemetry/status.ts';
import type { Finding } from './checks.ts';
import type { EmulatorContext, SourceEmulator } from './shared/emulator/context.ts';
import type { SiemOptions } from './shared/mapping/siem.ts';

/**
 * Everything the rest of the daemon knows about one source, in one place (like a Collector
 * receiver's factory): its config, how it makes streams, what its stored state says, how doctor
 * checks it, how preview maps its records, and its emulator. The daemon, the config schema,
 * `status`, `doctor`, `backfill`, `preview` and `emulate` loop over the registry (`registry.ts`);
 * a new source is one folder with its `index.ts` exporting an entry, imported and keyed there.
 *
 * Only the config schema and the pure state readers are loaded with the entry: everything that
 * pulls in a client library (an identity or API client: tens of MB each) or the emulator is imported
 * when it is used.
 */
export interface SourceEntry<Entry extends SourceConfigEntry = SourceConfigEntry, State = unknown, Emulator extends SourceEmulator = SourceEmulator, EmulatorOptions = object> {
  /** The config key (`sources.<kind>`), the first part of every stream id, the `auditrelay.source` label. */
  readonly kind: string;
  /** For people: help texts, demo banners. */
  readonly title: string;
  /** One entry of `sources.<kind>[]` (a tenant, a customer), with every default. */
  readonly configSchema: z.ZodType<Entry>;
  /** Makes relative paths inside an entry absolute, from the config file's folder. */
  resolvePaths?(entry: Entry, fromConfigDir: (path: string) => string): void;
  /** How long the API keeps history: how far back a backfill can go. */
  readonly retentionMs: number;
  /** Every stream of the configured entries (loads the source's client libraries now, not before). */
  create(entries: Entry[], deps: SourceDeps): Promise<Source>;
  /** A stream's durable document, typed. */
  readonly state: StateEntry<State>;
  readonly doctor: DoctorEntry<Entry>;
  readonly preview: PreviewEntry;
  readonly emulator: EmulatorEntry<Emulator, EmulatorOptions>;
}

/** What every config entry has: where a stream without state starts (`backfill --since` sets it). */
export interface SourceConfigEntry {
  initialLookback: number;
}

export interface SourceDeps {
  siem: SiemOptions;
  /** Folder relative paths in the config resolve from. */
  baseDir?: string;
}

export interface StateEntry<State> {
  /** The stored document of one stream, validated; `undefined` (nothing stored) gives the state of a new stream. Throws on an unknown shape. */
  restore(doc: unknown): State;
  /** What `auditrelay status` shows of it. */
  view(state: State): StoredView;
  /** Where the stream stands against the moment a backfill started. */
  position(state: State, startMs: number): StreamPosition;
}

/** Where one stream stands, from its committed state document. */
export interface StreamPosition {
  /** Everything before this source time is delivered (or set aside); undefined: nothing committed yet. */
  position?: number;
  /** The stream has read everything up to the backfill's start, and delivered all of it but set-aside items. */
  caughtUp: boolean;
  /** Items of the window that keep failing (blobs set aside): not delivered, reported. */
  setAside: number;
}

export interface DoctorEntry<Entry> {
  /** Every check of every configured entry, one after another (the output reads in config order). */
  check(entries: Entry[], deps: DoctorDeps): Promise<Finding[]>;
}

export interface DoctorDeps {
  /** `--fix`: repair what the source can repair safely (e.g. start a missing subscription). */
  fix: boolean;
  baseDir: string;
  signal?: AbortSignal;
  /**
   * A stream's durable state for a repair, fenced like the daemon's own commits: the stream's lease
   * is held while it is used. A string says why it is unavailable (a running daemon holds it).
   */
  claim(streamId: string): Promise<ClaimedState | string>;
}

export interface ClaimedState {
  state: StreamState;
  /** Gives the stream back (to the daemon's replicas). */
  release(): Promise<void>;
}

/** A command-line option a source adds to a command (`preview`, `emulate`). */
export interface CliOption {
  /** Commander flags, e.g. `--tenant <id>`; the value arrives under the camel-cased long name. */
  flags: string;
  description: string;
  /** Reads the text given (a duration, an integer); throws with a message when it is not one. */
  parse?(value: string): unknown;
}

export interface PreviewEntry {
  options: readonly CliOption[];
  /** The records inside one page of the API's listing answer, or undefined if `value` is not one (a content blob, an array, is read as records anyway). */
  unpage?(value: unknown): unknown[] | undefined;
  /** The mapping of one raw record, loaded on first use. */
  load(): Promise<PreviewMap>;
}

/** One raw record (or activity) as the daemon would export it, with the resource of its stream. */
export type PreviewMap = (raw: unknown, options: Readonly<Record<string, unknown>>, observedUnixMs: number) => { records: AuditRecord[]; resource: Record<string, string> };

export interface EmulatorEntry<Emulator extends SourceEmulator, Options> {
  /** Set-up problems the emulator stages for `auditrelay doctor` (`emulate --stage NAME`). */
  readonly stages: readonly string[];
  /** `auditrelay emulate` options, handed to `start` under their camel-cased names. */
  readonly options: readonly CliOption[];
  start(context: EmulatorContext, options: Options): Promise<Emulator>;
}
