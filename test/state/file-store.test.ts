import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStateStore } from '../../src/state/file-store.ts';
import { StateCorruptError, StateLockedError } from '../../src/core/state-store.ts';

const fresh = () => mkdtempSync(join(tmpdir(), 'state-'));

describe('FileStateStore', () => {
  it('round-trips documents by key and lists keys by prefix', async () => {
    const dir = fresh();
    const store = await FileStateStore.open(dir);
    await store.put('o365/t1/Audit.Exchange', { a: 1 });
    await store.put('o365/t1/DLP.All', { b: [1, 2] });
    await store.put('google/c/login', { c: 'x' });
    expect(await store.get('o365/t1/Audit.Exchange')).toEqual({ a: 1 });
    expect(await store.get('missing')).toBeUndefined();
    expect(await store.keys('o365/')).toEqual(['o365/t1/Audit.Exchange', 'o365/t1/DLP.All']);
    await store.close();
    const reopened = await FileStateStore.open(dir);
    expect(await reopened.get('google/c/login')).toEqual({ c: 'x' });
    await reopened.close();
  });

  it('keeps the last write when writes to one key overlap, and leaves no temporary files', async () => {
    const dir = fresh();
    const store = await FileStateStore.open(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('k', { i })));
    expect(await store.get('k')).toEqual({ i: 19 });
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    await store.close();
  });

  it('stops with a clear error on a corrupted file instead of starting over', async () => {
    const dir = fresh();
    const store = await FileStateStore.open(dir);
    await store.put('k', { cursor: 123 });
    const file = join(dir, readdirSync(dir).find((n) => n.endsWith('.state'))!);
    writeFileSync(file, readFileSync(file, 'utf8').replace('123', '124'));
    await expect(store.get('k')).rejects.toThrow(StateCorruptError);
    await expect(store.get('k')).rejects.toThrow(/checksum mismatch.*will not start over/s);
    writeFileSync(file, 'garbage');
    await expect(store.get('k')).rejects.toThrow(/no header line/);
    await store.close();
  });

  it('refuses a second daemon on the same folder but takes over a dead one\'s lock', async () => {
    const dir = fresh();
    const store = await FileStateStore.open(dir);
    writeFileSync(join(dir, 'LOCK'), '1'); // pid 1 is alive (init) and is not us
    await expect(FileStateStore.open(dir)).rejects.toThrow(StateLockedError);
    writeFileSync(join(dir, 'LOCK'), '999999999'); // no such process
    const second = await FileStateStore.open(dir);
    await second.close();
    await store.close();
  });
});
