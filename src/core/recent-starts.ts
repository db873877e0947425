const MINUTE_MS = 60_000;

/** Times of request starts over the last minute, for a budget's `usedLastMinute()`. */
export class RecentStarts {
  readonly #starts: number[] = [];
  readonly #now: () => number;
  /** Pruning happens on read, or once more than `pruneAbove` starts are kept. */
  readonly #pruneAbove: number;

  constructor(now: () => number, pruneAbove: number) {
    this.#now = now;
    this.#pruneAbove = pruneAbove;
  }

  note(): void {
    this.#starts.push(this.#now());
    if (this.#starts.length > this.#pruneAbove) this.#prune();
  }

  count(): number {
    this.#prune();
    return this.#starts.length;
  }

  #prune(): void {
    const cutoff = this.#now() - MINUTE_MS;
    let drop = 0;
    while (drop < this.#starts.length && (this.#starts[drop] as number) <= cutoff) drop++;
    if (drop > 0) this.#starts.splice(0, drop);
  }
}
