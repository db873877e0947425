/**
 * A bounded set of recently delivered record ids (first in, first out). An API may repeat records
 * across blobs by design; dropping the repeats we can see keeps duplicates rare, and `log.record.uid`
 * lets sinks drop the rest. An id goes in when a blob claims it for delivery; the claiming blob
 * stays pending in its ledger until the endpoint acknowledged it, and a failed delivery releases
 * its claims, so skipping a claimed id never loses data.
 */
export class RecentIds {
  readonly #capacity: number;
  /** id → the sequence number of its latest insertion. */
  readonly #ids = new Map<string, number>();
  /**
   * Insertion order as a queue, read from #head. Entries whose id was deleted or re-added since
   * are stale and skipped. (Evicting with `set.values().next()` instead was a third of the daemon's
   * CPU with 50 tenants: V8 leaves deleted entries in place at the front of its ordered table, so
   * finding the oldest live one walked past every id evicted since the last rehash.)
   */
  #order: string[] = [];
  #orderSeq: number[] = [];
  #head = 0;
  #seq = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(id: string): void {
    if (this.#ids.has(id)) return;
    const seq = this.#seq++;
    this.#ids.set(id, seq);
    this.#order.push(id);
    this.#orderSeq.push(seq);
    while (this.#ids.size > this.#capacity) {
      const oldest = this.#order[this.#head] as string;
      const oldestSeq = this.#orderSeq[this.#head] as number;
      this.#head++;
      if (this.#ids.get(oldest) === oldestSeq) this.#ids.delete(oldest);
    }
    this.#compact();
  }

  delete(id: string): void {
    this.#ids.delete(id);
  }

  get size(): number {
    return this.#ids.size;
  }

  /** Drops consumed and stale queue entries once they outnumber the live ones (amortised O(1)). */
  #compact(): void {
    if (this.#order.length - this.#head <= 2 * this.#capacity && this.#head < this.#order.length / 2) return;
    const order: string[] = [];
    const orderSeq: number[] = [];
    for (let i = this.#head; i < this.#order.length; i++) {
      const id = this.#order[i] as string;
      const seq = this.#orderSeq[i] as number;
      if (this.#ids.get(id) === seq) {
        order.push(id);
        orderSeq.push(seq);
      }
    }
    this.#order = order;
    this.#orderSeq = orderSeq;
    this.#head = 0;
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
