import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Source, Stream } from '../src/core/source.ts';
import { StateCorruptError } from '../src/core/state-store.ts';
import { checkStoredState } from '../src/daemon.ts';
import { FileStateStore } from '../src/state/file-store.ts';

const sourceOf = (...ids: string[]): Source => ({ kind: 'test', streams: () => ids.map((id) => ({ id }) as Stream) });

describe('checkStoredState (before the daemon starts anything)', () => {
  it('passes over streams with good or no state, and stops on a corrupt file without touching it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-check-'));
    const store = await FileStateStore.open(dir);
    await store.put('o365/t/Audit.General', { v: 1, listedUntil: 1234567, pending: [], done: {}, losses: [] });
    await store.put('google/c/login', { v: 1 });
    await expect(checkStoredState(store, [sourceOf('o365/t/Audit.General', 'o365/t/DLP.All'), sourceOf('google/c/login')])).resolves.toBeUndefined();

    const file = join(dir, readdirSync(dir).find((n) => n.startsWith('o365'))!);
    const bytes = readFileSync(file);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 0x01;
    writeFileSync(file, flipped);
    const check = checkStoredState(store, [sourceOf('o365/t/Audit.General'), sourceOf('google/c/login')]);
    await expect(check).rejects.toBeInstanceOf(StateCorruptError);
    await expect(check).rejects.toThrow(file);
    expect(readFileSync(file)).toEqual(flipped);
    await store.close();
  });
});
