import { constants as fsc } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Records the endpoint refused for good, one JSON line each with the reason, appended and fsynced
 * before the stream moves on: nothing refused is lost, and it can be replayed by hand.
 */
export class DeadLetterFile {
  readonly path: string;
  #chain: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  write(streamId: string, reason: string, records: readonly unknown[], extra: Record<string, unknown> = {}): Promise<void> {
    const at = new Date().toISOString();
    const lines = records.map((r) => JSON.stringify({ at, stream: streamId, reason, ...extra, record: r })).join('\n') + '\n';
    this.#chain = this.#chain.catch(() => undefined).then(() => this.#append(lines));
    return this.#chain;
  }

  async #append(text: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const handle = await open(this.path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND, 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
