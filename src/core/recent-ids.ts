/**
 * A bounded set of recently delivered record ids (first in, first out). Office 365 repeats records
 * across blobs by design; dropping the repeats we can see keeps duplicates rare, and `log.record.uid`
 * lets sinks drop the rest. An id goes in when a blob claims it for delivery; the claiming blob
 * stays pending in its ledger until the endpoint acknowledged it, and a failed delivery releases
 * its claims, so skipping a claimed id never loses data.
 */
export class RecentIds {
  readonly #capacity: number;
  readonly #set = new Set<string>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  has(id: string): boolean {
    return this.#set.has(id);
  }

  add(id: string): void {
    if (this.#set.has(id)) return;
    this.#set.add(id);
    if (this.#set.size > this.#capacity) {
      // Sets iterate in insertion order: the first key is the oldest.
      const oldest = this.#set.values().next().value as string;
      this.#set.delete(oldest);
    }
  }

  delete(id: string): void {
    this.#set.delete(id);
  }

  get size(): number {
    return this.#set.size;
  }
}

/** One stream's view of a RecentIds shared by many: its ids carry a short prefix, so streams never collide. */
export interface RecentIdsView {
  has(id: string): boolean;
  add(id: string): void;
  delete(id: string): void;
}

export function scopedRecentIds(shared: RecentIds, prefix: string): RecentIdsView {
  return {
    has: (id) => shared.has(prefix + id),
    add: (id) => shared.add(prefix + id),
    delete: (id) => shared.delete(prefix + id),
  };
}
