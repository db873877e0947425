// One-shot hash(): the same digest as createHash().update().digest(), a third of the cost per call.
import { hash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StateCorruptError, StateLockedError, type StateStore } from '../core/state-store.ts';

const FORMAT_VERSION = 1;
const SUFFIX = '.state';

/**
 * One file per key in a folder. Each write goes to a temporary file that is fsynced, renamed over
 * the old one and followed by an fsync of the folder, so after a crash a key holds either its old
 * or its new document, never a torn one. Each file starts with a header line carrying a SHA-256 of
 * the payload: a file that does not match is reported as corrupt, never silently reset.
 */
export class FileStateStore implements StateStore {
  readonly kind = 'file';
  readonly location: string;
  readonly #dir: string;
  readonly #chains = new Map<string, Promise<void>>();
  #tmpCounter = 0;
  #lockPath: string | undefined;
  readonly #readOnly: boolean;

  private constructor(dir: string, readOnly = false) {
    this.#dir = dir;
    this.location = dir;
    this.#readOnly = readOnly;
  }

  /** Opens (creating if needed) the folder and takes its lock, so two daemons never share one state. */
  static async open(dir: string): Promise<FileStateStore> {
    await mkdir(dir, { recursive: true });
    const store = new FileStateStore(dir);
    await store.#lock();
    return store;
  }

  /**
   * Opens an existing folder for reading only, without the lock, so `auditrelay status` can read
   * it while the daemon runs. Each file is replaced by rename, so a read sees an old or new document.
   */
  static async openReadOnly(dir: string): Promise<FileStateStore> {
    if (!(await isDirectory(dir))) throw new Error(`no state folder at ${dir} (has the daemon run with this config?)`);
    return new FileStateStore(dir, true);
  }

  async get(key: string): Promise<unknown> {
    const path = this.#path(key);
    let raw: Buffer;
    try {
      raw = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return decode(raw, path);
  }

  put(key: string, value: unknown): Promise<void> {
    if (this.#readOnly) return Promise.reject(new Error(`state folder ${this.#dir} is open read-only`));
    // Writes to one key are serialised so an older document can never land after a newer one.
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.#write(key, value));
    this.#chains.set(key, next);
    void next.finally(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    }).catch(() => undefined);
    return next;
  }

  async keys(prefix: string): Promise<string[]> {
    const names = await readdir(this.#dir);
    return names
      .filter((n) => n.endsWith(SUFFIX))
      .map((n) => decodeKey(n.slice(0, -SUFFIX.length)))
      .filter((k) => k.startsWith(prefix))
      .sort();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()]);
    if (this.#lockPath) await rm(this.#lockPath, { force: true });
    this.#lockPath = undefined;
  }

  async #write(key: string, value: unknown): Promise<void> {
    const path = this.#path(key);
    const tmp = `${path}.tmp-${process.pid}-${this.#tmpCounter++}`;
    const payload = JSON.stringify(value);
    const header = JSON.stringify({ v: FORMAT_VERSION, key, sha256: sha256(payload), bytes: Buffer.byteLength(payload) });
    const handle = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC, 0o600);
    try {
      await handle.writeFile(`${header}\n${payload}`);
      await handle.sync();
    } catch (err) {
      await handle.close();
      await rm(tmp, { force: true });
      throw new Error(`could not write state for ${key} in ${this.#dir}: ${(err as Error).message}`, { cause: err });
    }
    await handle.close();
    await rename(tmp, path);
    await fsyncDir(this.#dir);
  }

  #path(key: string): string {
    return join(this.#dir, encodeKey(key) + SUFFIX);
  }

  async #lock(): Promise<void> {
    const lockPath = join(this.#dir, 'LOCK');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        try {
          await handle.writeFile(String(process.pid));
        } finally {
          await handle.close();
        }
        this.#lockPath = lockPath;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          // E.g. the disk is full: say which folder, and leave no half-written lock behind.
          await rm(lockPath, { force: true }).catch(() => undefined);
          throw new Error(`could not take the lock on state folder ${this.#dir}: ${(err as Error).message}`, { cause: err });
        }
        const holder = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
        if (holder && holder !== process.pid && isAlive(holder)) {
          throw new StateLockedError(
            `state folder ${this.#dir} is in use by process ${holder}; run one daemon per state folder (or use the postgres store for replicas)`,
          );
        }
        // The holder is gone (killed): its lock is stale.
        await rm(lockPath, { force: true });
      }
    }
    throw new StateLockedError(`could not take the lock on state folder ${this.#dir}`);
  }
}

function decode(raw: Buffer, path: string): unknown {
  const text = raw.toString('utf8');
  const newline = text.indexOf('\n');
  const corrupt = (why: string) =>
    new StateCorruptError(
      `state file ${path} is corrupt (${why}). auditrelay will not start over on its own, because that would ` +
        're-read or skip data. Restore the file from a backup, or delete it to restart that stream from its configured start.',
    );
  if (newline < 0) throw corrupt('no header line');
  let header: { v?: number; sha256?: string };
  try {
    header = JSON.parse(text.slice(0, newline));
  } catch {
    throw corrupt('unreadable header');
  }
  if (header.v !== FORMAT_VERSION) throw corrupt(`unknown format version ${String(header.v)}`);
  const payload = text.slice(newline + 1);
  if (sha256(payload) !== header.sha256) throw corrupt('checksum mismatch');
  try {
    return JSON.parse(payload);
  } catch {
    throw corrupt('unreadable payload');
  }
}

function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, fsc.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Keys hold '/', ':' and other characters; keep file names portable and reversible. */
function encodeKey(key: string): string {
  return encodeURIComponent(key);
}

function decodeKey(name: string): string {
  return decodeURIComponent(name);
}

/** True when `dir` exists and is a folder (for doctor/readyz). */
export async function isDirectory(dir: string): Promise<boolean> {
  return stat(dir).then((s) => s.isDirectory(), () => false);
}
