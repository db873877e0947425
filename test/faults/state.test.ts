import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { restoreState } from '../../src/sources/o365/state.ts';
import { FileStateStore } from '../../src/state/file-store.ts';
import { DaemonRun, editConfig, expectNothingLost, finish, O365_STATE_FILE, until, useScenes } from './support.ts';

const scene = useScenes();

/** Office 365 only, a finite backlog and no repeats by design, so a restart that started over would show as duplicates. */
const o365Only = (o365: Record<string, unknown>) => ({ o365: { duplicateRate: 0, ...o365 }, google: { history: 0, eventsPerMinute: 0 } });

/** `listedUntil` of every Office 365 stream in a state folder (reads without the lock). */
async function cursors(dir: string): Promise<Map<string, number | undefined>> {
  const store = await FileStateStore.openReadOnly(dir);
  const out = new Map<string, number | undefined>();
  for (const key of await store.keys('o365/')) out.set(key, restoreState(await store.get(key)).listedUntil);
  return out;
}

describe('fault: the state folder', () => {
  it('holds a corrupted stream state file: run exits non-zero with the error, resets nothing, resumes once restored', async () => {
    const s = await scene(o365Only({ backlog: '1h', backlogRecords: 600, blobInterval: 0 }), { google: false });
    const first = new DaemonRun(s.world, s.rss);
    expect(await until(() => s.received.uids().length >= s.world.emulators.truth().length, 60_000)).toBe(true);
    expect(await first.stop()).toBe(0);

    const stateDir = join(s.world.dir, 'state');
    const file = join(stateDir, readdirSync(stateDir).find((n) => O365_STATE_FILE.test(n)) as string);
    const original = readFileSync(file);
    const corrupted = Buffer.from(original);
    for (const at of [0.5, 0.7, 0.9]) {
      const i = Math.floor(corrupted.length * at);
      corrupted[i] = (corrupted[i] as number) ^ 0x20;
    }
    writeFileSync(file, corrupted);
    const deliveredBefore = s.received.uids().length;
    for (let i = 0; i < 10; i++) s.world.emulators.sources.o365.produceBlob();

    const refused = new DaemonRun(s.world, s.rss);
    const code = await refused.exitedWithin(30_000);
    const message = refused.grep(/is corrupt/).join('\n');
    expect(code).toBe(2);
    expect(message).toContain(file);
    expect(message).toContain('will not start over');
    // Left as it was, and nothing was fetched or sent again.
    expect(readFileSync(file).equals(corrupted)).toBe(true);
    expect(s.received.uids().length).toBe(deliveredBefore);

    writeFileSync(file, original);
    const outcome = await finish(s, new DaemonRun(s.world, s.rss), 'state-corrupt', 60_000, () => ({ refused_exit_code: code, corrupt_file: file.slice(stateDir.length + 1) }));
    expectNothingLost(outcome);
    expect(outcome.figures.duplicates).toBe(0);
  });

  it('fills its disk: clear errors naming the state folder, no cursor reset, nothing lost once space returns', async () => {
    const s = await scene(o365Only({ backlog: '1h', backlogRecords: 1500, blobInterval: '300ms' }), { google: false });
    const full = fullDisk(join(s.world.dir, 'statefs'));
    try {
      editConfig(s.world, (doc) => {
        doc.state.path = full.dir;
      });
      const run = new DaemonRun(s.world, s.rss);
      expect(await until(() => s.received.uids().length >= 300, 60_000)).toBe(true);
      const before = await cursors(full.dir);
      expect(before.size).toBeGreaterThan(0);

      full.fill();
      const failing = (r: DaemonRun) => r.grep(full.errorPattern).filter((l) => l.includes(full.dir));
      const reported = await until(() => failing(run).length > 0, 30_000);
      // Every stream file still reads (no torn or emptied document) and no cursor went back.
      const during = await cursors(full.dir);
      for (const [key, listedUntil] of before) expect(during.get(key) ?? -1).toBeGreaterThanOrEqual(listedUntil ?? 0);
      const stopCode = await run.stop();

      // Starting while the disk is full (what the stop freed is taken too): refused, the folder named.
      full.fill();
      const refused = new DaemonRun(s.world, s.rss);
      const refusedCode = await refused.exitedWithin(30_000);
      const refusal = refused.lines.join('\n');

      full.release();
      const outcome = await finish(s, new DaemonRun(s.world, s.rss), 'state-disk-full', 90_000, () => ({
        simulated_by: full.how,
        errors_naming_state_dir: failing(run).length,
        stop_exit_code: stopCode,
        refused_start_exit_code: refusedCode,
      }));
      const after = await cursors(full.dir);
      expect(reported).toBe(true);
      expect(refusedCode).not.toBeNull();
      expect(refusedCode).not.toBe(0);
      expect(refusal).toContain(full.dir);
      expect(refusal).toMatch(full.errorPattern);
      expectNothingLost(outcome);
      for (const [key, listedUntil] of before) expect(after.get(key) ?? -1).toBeGreaterThanOrEqual(listedUntil ?? 0);
    } finally {
      full.unmount();
    }
  });

  for (const skewMs of [-2 * 3_600_000, 2 * 3_600_000]) {
    const hours = skewMs / 3_600_000;
    it(`is on a host whose clock is ${Math.abs(hours)} h ${hours < 0 ? 'ahead of' : 'behind'} Microsoft's: windows follow Microsoft's clock, nothing is lost`, async () => {
      const s = await scene(o365Only({ clockSkew: skewMs, backlog: '1h', backlogRecords: 800, blobInterval: '500ms' }), { google: false });
      const run = new DaemonRun(s.world, s.rss);
      const outcome = await finish(s, run, `clock-skew-${hours > 0 ? '+' : ''}${hours}h`, 90_000, () => ({
        server_clock_offset_h: hours,
        skew_reported: run.grep(/local clock is .* Microsoft's/).length > 0,
      }));
      expectNothingLost(outcome);
      expect(outcome.figures['skew_reported']).toBe(true);
    });
  }
});

/**
 * A state folder on a small tmpfs (as root; CI runs as root too), filled on demand. Without mount
 * (not root), the folder is made read-only instead: writes fail with EACCES rather than ENOSPC.
 */
function fullDisk(dir: string) {
  mkdirSync(dir, { recursive: true });
  let how: 'tmpfs' | 'read-only';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'pipe' });
    how = 'tmpfs';
  } catch (err) {
    if (process.getuid?.() === 0) throw new Error(`cannot simulate a full disk: mount -t tmpfs failed as root: ${(err as Error).message}`);
    how = 'read-only';
  }
  let fillers = 0;
  return {
    dir,
    how,
    errorPattern: how === 'tmpfs' ? /no space left on device|ENOSPC/i : /permission denied|EACCES/i,
    fill(): void {
      if (how === 'read-only') {
        chmodSync(dir, 0o500);
        return;
      }
      const fd = openSync(join(dir, `filler-${fillers++}`), 'w');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        // Bounded: 4 MB is 64 chunks.
        for (let i = 0; i < 1000; i++) writeSync(fd, chunk);
        throw new Error('the tmpfs never filled up');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
    },
    release(): void {
      if (how === 'read-only') chmodSync(dir, 0o700);
      else for (let i = 0; i < fillers; i++) rmSync(join(dir, `filler-${i}`), { force: true });
    },
    unmount(): void {
      if (how === 'tmpfs') execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    },
  };
}
