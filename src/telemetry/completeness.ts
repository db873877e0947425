import type { ProgressKind, StreamProgress } from '../core/source.ts';
import type { Logger } from '../core/log.ts';
import { type Fence, FencedError, type StateStore } from '../core/state-store.ts';

/**
 * The completeness ledger: per stream and UTC hour of the source's own time, how many blobs/pages
 * were listed, fetched, exported, set aside or lost, and how many records were exported. Kept in the
 * state store under `completeness/<streamId>`, written alongside the stream's own commits (in
 * parallel, so it adds no wait of its own), bounded to the last 8 days.
 */
export type HourCounts = Record<ProgressKind, number>;

export interface CompletenessDoc {
  v: 1;
  /** 'YYYY-MM-DDTHH' (UTC) -> counts. */
  hours: Record<string, HourCounts>;
}

export const PROGRESS_KINDS: readonly ProgressKind[] = ['listed', 'fetched', 'exported', 'setAside', 'lost', 'records'];
const HOUR_MS = 3_600_000;
/** A week of hours, the shortest retention of the audit APIs, and one more day to show the edge. */
export const COMPLETENESS_RETENTION_MS = 8 * 24 * HOUR_MS;
const MAX_HOURS = COMPLETENESS_RETENTION_MS / HOUR_MS;

export function completenessKey(streamId: string): string {
  return `completeness/${streamId}`;
}

export function hourKey(ms: number): string {
  return new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13);
}

export function hourStart(key: string): number {
  return Date.parse(`${key}:00:00Z`);
}

export function emptyCounts(): HourCounts {
  return { listed: 0, fetched: 0, exported: 0, setAside: 0, lost: 0, records: 0 };
}

/** Reads a stored document; an unknown shape reads as empty (this ledger is reporting, not state). */
export function parseCompleteness(doc: unknown): CompletenessDoc {
  const d = doc as Partial<CompletenessDoc> | undefined;
  if (d?.v !== 1 || typeof d.hours !== 'object' || d.hours === null) return { v: 1, hours: {} };
  const hours: Record<string, HourCounts> = {};
  for (const [key, counts] of Object.entries(d.hours)) {
    if (Number.isNaN(hourStart(key))) continue;
    const c = emptyCounts();
    for (const kind of PROGRESS_KINDS) {
      const n = (counts as Partial<HourCounts>)[kind];
      if (typeof n === 'number' && Number.isFinite(n)) c[kind] = n;
    }
    hours[key] = c;
  }
  return { v: 1, hours };
}

/** Keeps hours newer than `now - 8 days`, at most 8 × 24 of them (the newest). */
export function pruneCompleteness(doc: CompletenessDoc, now: number): CompletenessDoc {
  const floor = now - COMPLETENESS_RETENTION_MS;
  const keys = Object.keys(doc.hours)
    .filter((k) => hourStart(k) >= floor)
    .sort()
    .slice(-MAX_HOURS);
  const hours: Record<string, HourCounts> = {};
  for (const k of keys) hours[k] = doc.hours[k] as HourCounts;
  return { v: 1, hours };
}

/**
 * One stream's ledger in memory and its writes. `count` only touches memory; `persist` writes the
 * document if anything changed since the last write (never two writes at once), under the fence of
 * the stream's current run like every other write of the stream: a replica that lost the stream
 * cannot overwrite the ledger its new owner keeps.
 */
export class CompletenessRecorder implements StreamProgress {
  readonly #store: StateStore;
  readonly #streamId: string;
  readonly #key: string;
  readonly #now: () => number;
  readonly #log: Logger;
  #doc: CompletenessDoc = { v: 1, hours: {} };
  #dirty = false;
  #writing: Promise<void> | undefined;
  #fence: Fence | undefined;
  /** The store refused a write under `#fence`: the stream runs elsewhere; write nothing until the next load. */
  #fenced = false;

  constructor(store: StateStore, streamId: string, now: () => number, log: Logger) {
    this.#store = store;
    this.#streamId = streamId;
    this.#key = completenessKey(streamId);
    this.#now = now;
    this.#log = log;
  }

  /**
   * Replaces memory with the stored document (at each start of the stream, which may have run
   * elsewhere); later writes carry `fence`, the lease of this run (undefined: one process, no fence).
   */
  async load(fence?: Fence): Promise<void> {
    await this.#writing;
    this.#fence = fence;
    this.#fenced = false;
    try {
      this.#doc = parseCompleteness(await this.#store.get(this.#key));
    } catch (err) {
      this.#log.warn({ err: (err as Error).message, key: this.#key }, 'completeness ledger unreadable; starting it afresh');
      this.#doc = { v: 1, hours: {} };
    }
    this.#dirty = false;
  }

  count(kind: ProgressKind, atMs: number, n = 1): void {
    if (n <= 0 || !Number.isFinite(atMs)) return;
    const key = hourKey(atMs);
    let counts = this.#doc.hours[key];
    if (!counts) {
      counts = emptyCounts();
      this.#doc.hours[key] = counts;
    }
    counts[kind] += n;
    this.#dirty = true;
  }

  snapshot(): CompletenessDoc {
    return structuredClone(this.#doc);
  }

  /**
   * Writes if changed; a failed write is logged and retried with the next one, never thrown. A write
   * refused because the stream's lease moved drops the unwritten counts: they belong to work the
   * new owner redoes (and counts) from the last commit.
   */
  persist(): Promise<void> {
    if (!this.#dirty || this.#fenced) return this.#writing ?? Promise.resolve();
    const previous = this.#writing ?? Promise.resolve();
    const next = previous.then(async () => {
      if (!this.#dirty || this.#fenced) return;
      this.#dirty = false;
      this.#doc = pruneCompleteness(this.#doc, this.#now());
      try {
        await this.#store.put(this.#key, this.#doc, this.#fence && { ...this.#fence, stream: this.#streamId });
      } catch (err) {
        if (err instanceof FencedError) {
          this.#fenced = true;
          this.#log.warn({ err: err.message, key: this.#key }, 'completeness ledger not written: the stream belongs to another replica now');
          return;
        }
        this.#dirty = true;
        this.#log.warn({ err: (err as Error).message, key: this.#key }, 'could not write the completeness ledger; will try again with the next commit');
      }
    });
    this.#writing = next;
    void next.finally(() => {
      if (this.#writing === next) this.#writing = undefined;
    });
    return next;
  }
}
