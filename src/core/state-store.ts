/**
 * Where stream state lives, as the core sees it (state/ holds the implementations). The embedded
 * file store is the default; a shared database implements
 * the same interface for replicas (with `fence` checked on every write).
 */
export interface Fence {
  /** The replica that holds the stream's lease. */
  owner: string;
  /** The lease's epoch: a store refuses a write whose epoch is older than the stream's current one. */
  epoch: number;
  /**
   * The stream whose lease guards the write. Default: the key itself (a stream's own document);
   * set for a stream's other documents, such as its completeness ledger.
   */
  stream?: string;
}

export interface StateStore {
  readonly kind: string;
  /** Human-readable location for messages (a folder, a database URL without password). */
  readonly location: string;
  /** The document for `key`, or undefined if none was ever written. Throws `StateCorruptError`. */
  get(key: string): Promise<unknown>;
  /** Replaces the document atomically; resolves once durable. Throws `FencedError` for a stale fence. */
  put(key: string, value: unknown, fence?: Fence): Promise<void>;
  /** Keys that start with `prefix`. */
  keys(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

export class StateCorruptError extends Error {
  override readonly name = 'StateCorruptError';
}

export class FencedError extends Error {
  override readonly name = 'FencedError';
}

export class StateLockedError extends Error {
  override readonly name = 'StateLockedError';
}
