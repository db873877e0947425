/**
 * The emulators' ground truth: the `log.record.uid` of every record any source has made available
 * so far, all sources together. Tests and the benchmark compare what reached the OTLP sink with
 * this set, so a source announces a record at the moment a client could first see it.
 *
 * Two ways to announce: `add` for records held in memory, or `addSource` for a source that can
 * enumerate what is visible now on demand (an emulator can derive a million-record backlog from
 * blob ids rather than hold every uid in memory).
 */
export type TruthSource = () => Iterable<string>;

export class TruthRegistry {
  readonly #uids = new Set<string>();
  readonly #sources: TruthSource[] = [];

  add(uid: string): void {
    this.#uids.add(uid);
  }

  addAll(uids: Iterable<string>): void {
    for (const uid of uids) this.#uids.add(uid);
  }

  addSource(source: TruthSource): void {
    this.#sources.push(source);
  }

  /** A snapshot without repeats: duplicate records (same uid in two blobs) count once. */
  list(): string[] {
    if (this.#sources.length === 0) return [...this.#uids];
    const all = new Set(this.#uids);
    for (const source of this.#sources) for (const uid of source()) all.add(uid);
    return [...all];
  }
}
