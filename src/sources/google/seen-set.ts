// One-shot hash(): the same digest as createHash().update().digest(), a third of the cost per call.
import { hash } from 'node:crypto';

/**
 * The `log.record.uid`s already delivered from windows that will be read again: a re-poll exports
 * only what is new. Bounded and serialisable into the stream's state document.
 *
 * Kept as 96-bit hashes of the uid (16 base64url characters), bucketed by the event's minute so that
 * entries whose time no stage will read again are dropped in one step. Over `maxEntries` the oldest
 * minutes are forgotten first: a re-poll of those may then export an event again (a duplicate the
 * uid lets sinks drop), never lose one.
 */
const BUCKET_MS = 60_000;

export interface SeenSetJson {
  /** [bucket start ms, hashes] */
  buckets: [number, string[]][];
}

export function uidKey(uid: string): string {
  return hash('sha256', uid, 'base64url').slice(0, 16);
}

export class SeenSet {
  readonly maxEntries: number;
  readonly #buckets = new Map<number, Set<string>>();
  #size = 0;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }

  static fromJSON(json: SeenSetJson | undefined, maxEntries: number): SeenSet {
    const set = new SeenSet(maxEntries);
    for (const [bucket, keys] of json?.buckets ?? []) {
      const entries = new Set(keys);
      set.#buckets.set(bucket, entries);
      set.#size += entries.size;
    }
    set.#evict();
    return set;
  }

  get size(): number {
    return this.#size;
  }

  has(uid: string, timeMs: number): boolean {
    return this.#buckets.get(bucketOf(timeMs))?.has(uidKey(uid)) ?? false;
  }

  /** Adds a delivered uid. Returns how many older entries were forgotten to stay within the bound. */
  add(uid: string, timeMs: number): number {
    const bucket = bucketOf(timeMs);
    let entries = this.#buckets.get(bucket);
    if (!entries) {
      entries = new Set();
      this.#buckets.set(bucket, entries);
    }
    const key = uidKey(uid);
    if (entries.has(key)) return 0;
    entries.add(key);
    this.#size += 1;
    return this.#evict();
  }

  /** Forgets every entry of an event time before `timeMs` (no stage will read it again). */
  forgetBefore(timeMs: number): number {
    let dropped = 0;
    for (const [bucket, entries] of this.#buckets) {
      if (bucket + BUCKET_MS <= timeMs) {
        dropped += entries.size;
        this.#buckets.delete(bucket);
      }
    }
    this.#size -= dropped;
    return dropped;
  }

  /** Event time of the oldest entry kept, or undefined when empty. */
  oldestMs(): number | undefined {
    let oldest: number | undefined;
    for (const bucket of this.#buckets.keys()) if (oldest === undefined || bucket < oldest) oldest = bucket;
    return oldest;
  }

  toJSON(): SeenSetJson {
    const buckets = [...this.#buckets.entries()].filter(([, e]) => e.size > 0).sort((a, b) => a[0] - b[0]);
    return { buckets: buckets.map(([bucket, entries]) => [bucket, [...entries]]) };
  }

  #evict(): number {
    if (this.#size <= this.maxEntries) return 0;
    const order = [...this.#buckets.keys()].sort((a, b) => a - b);
    let dropped = 0;
    for (const bucket of order) {
      if (this.#size <= this.maxEntries) break;
      const entries = this.#buckets.get(bucket) as Set<string>;
      // Drop single entries from the oldest minute so the bound is exact.
      for (const key of entries) {
        if (this.#size <= this.maxEntries) break;
        entries.delete(key);
        this.#size -= 1;
        dropped += 1;
      }
      if (entries.size === 0) this.#buckets.delete(bucket);
    }
    return dropped;
  }
}

function bucketOf(timeMs: number): number {
  return Math.floor(timeMs / BUCKET_MS) * BUCKET_MS;
}
