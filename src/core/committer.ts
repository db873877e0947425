import type { StreamState } from './source.ts';

/**
 * Coalesces state commits: many blobs delivered close together become one durable write.
 * A commit failure (disk full, lost lease) is kept and thrown by the next `flush()`, so the stream
 * stops and restarts from its last durable state instead of going on as if it had saved.
 */
export class Committer<T> {
  readonly #state: StreamState<T>;
  readonly #current: () => T;
  #dirty = false;
  #running: Promise<void> | undefined;
  #error: unknown;

  constructor(state: StreamState<T>, current: () => T) {
    this.#state = state;
    this.#current = current;
  }

  request(): void {
    this.#dirty = true;
    this.#running ??= this.#loop();
  }

  /** Resolves when everything requested so far is durable; throws the first commit failure. */
  async flush(): Promise<void> {
    if (this.#dirty) this.request();
    await this.#running;
    if (this.#error !== undefined) {
      const err = this.#error;
      this.#error = undefined;
      throw err;
    }
  }

  async #loop(): Promise<void> {
    try {
      while (this.#dirty && this.#error === undefined) {
        this.#dirty = false;
        await this.#state.commit(this.#current());
      }
    } catch (err) {
      this.#error = err;
    } finally {
      this.#running = undefined;
    }
  }
}
