import type { EmulatorTls } from './tls.ts';
import type { TruthRegistry } from './truth.ts';

/** What every source's emulator receives from `startEmulators`. */
export interface EmulatorContext {
  tls: EmulatorTls;
  /** Shared across sources: each adds the uids of records it makes available. */
  truth: TruthRegistry;
  /** Folder for ca.pem, the daemon config and any credential files. */
  dir: string;
  /** Everything generated derives from it, so two runs with one seed serve the same records. */
  seed: number;
  /** Turn every transient fault on at a realistic rate. */
  faults: boolean;
  /** A named set-up problem for `auditrelay doctor`; a source ignores stages it does not know. */
  stage?: string;
}

/** A running per-source emulator, as `startEmulators` composes it. */
export interface SourceEmulator {
  /** HTTPS base URL, no trailing slash. */
  url: string;
  /** Entries for `sources.<kind>` in the daemon config that point at this emulator. */
  configEntries: Record<string, unknown>[];
  close(): Promise<void>;
}
