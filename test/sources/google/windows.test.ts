import { describe, expect, it } from 'vitest';
import { googleCustomerSchema, LAG_PROFILES, repollAgesOf } from '../../../src/sources/google/config.ts';
import { scheduleOf } from '../../../src/sources/google/stream.ts';
import {
  advance,
  buildSchedule,
  clampToFloor,
  forgetBefore,
  initialCursors,
  migrateCursors,
  nextDueAt,
  nextWindow,
  type Schedule,
} from '../../../src/sources/google/windows.ts';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const t0 = Date.parse('2026-11-22T12:00:00Z');

/** Drives the planner like the stream does, reading every due window at once. */
function drive(schedule: Schedule, cursors: number[], from: number, to: number, tick: number, onRead: (w: { stage: number; startMs: number; endMs: number }, at: number) => void): number[] {
  let c = cursors;
  for (let now = from; now <= to; now += tick) {
    for (let w = nextWindow(schedule, c, now); w; w = nextWindow(schedule, c, now)) {
      onRead(w, now);
      c = advance(schedule, c, w, now);
    }
  }
  return c;
}

describe('Google windows', () => {
  it('backfills the look-back in chunks read once, not once per re-poll stage', () => {
    const schedule = buildSchedule([10 * M, H, 6 * H], M, D);
    let cursors = initialCursors(schedule, t0, 3 * D, t0 - 180 * D);
    const reads: { stage: number; startMs: number; endMs: number }[] = [];
    for (let w = nextWindow(schedule, cursors, t0); w; w = nextWindow(schedule, cursors, t0)) {
      reads.push(w);
      cursors = advance(schedule, cursors, w, t0);
    }
    expect(reads.every((r) => r.stage === 0)).toBe(true);
    expect(reads.map((r) => r.endMs - r.startMs)).toEqual([D, D, D]);
    expect(reads[0]!.startMs).toBe(t0 - 3 * D);
    expect(cursors[0]).toBe(t0);
    // What was already older than a stage's age when read needs no re-poll at that age.
    expect(cursors.slice(1)).toEqual([t0 - 10 * M, t0 - H, t0 - 6 * H]);
  });

  it('an incomplete read (paging cut short) counts for its own stage only: every later stage reads the window itself', () => {
    const schedule = buildSchedule([10 * M, H, 6 * H], M, D);
    // One backfill chunk: the whole look-back in one window.
    const cursors = initialCursors(schedule, t0, D, t0 - 180 * D);
    const w = nextWindow(schedule, cursors, t0)!;
    expect(advance(schedule, cursors, w, undefined)).toEqual([w.endMs, w.startMs, w.startMs, w.startMs]);
    // The same window read completely moves the later stages over it as well.
    expect(advance(schedule, cursors, w, t0).slice(1)).toEqual([t0 - 10 * M, t0 - H, t0 - 6 * H]);
    // Each later stage then finds the window due for itself.
    let c = advance(schedule, cursors, w, undefined);
    const later = nextWindow(schedule, c, t0)!;
    expect(later).toMatchObject({ stage: 1, startMs: w.startMs, endMs: t0 - 10 * M });
    c = advance(schedule, c, later, undefined);
    expect(nextWindow(schedule, c, t0)).toMatchObject({ stage: 2, startMs: w.startMs });
  });

  it('re-reads every window when its end reaches each re-poll age, and only then', () => {
    const ages = [10 * M, H, 6 * H];
    const schedule = buildSchedule(ages, M, D);
    const start = t0;
    const reads: { stage: number; startMs: number; endMs: number; at: number }[] = [];
    drive(schedule, schedule.ages.map(() => start), start, start + 12 * H, 15_000, (w, at) => reads.push({ ...w, at }));
    for (const r of reads) {
      expect(r.at - r.endMs).toBeGreaterThanOrEqual(schedule.ages[r.stage]!);
      // never much later than its age plus its step
      expect(r.at - r.endMs).toBeLessThanOrEqual(schedule.ages[r.stage]! + schedule.steps[r.stage]! + 15_000);
    }
    // Every stage covered [start, now - age - step) without gaps or overlaps.
    for (let stage = 0; stage < schedule.ages.length; stage++) {
      const mine = reads.filter((r) => r.stage === stage);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine[0]!.startMs).toBe(start);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.startMs).toBe(mine[i - 1]!.endMs);
    }
  });

  it('finds late, out-of-order events soon after they become visible', () => {
    const schedule = buildSchedule(LAG_PROFILES.hours.slice(0, 9), M, D);
    // Events at minute i, visible after a lag from seconds to 10 hours, in no particular order.
    const lags = [5_000, 40 * M, 3 * H + 7 * M, 90 * M, 10 * H, 2 * M, 7 * H, 25 * M];
    const events = Array.from({ length: 200 }, (_, i) => ({ time: t0 + i * 90_000 + 1234, visibleAt: 0, found: -1 }));
    events.forEach((e, i) => {
      e.visibleAt = e.time + lags[i % lags.length]!;
    });
    drive(schedule, schedule.ages.map(() => t0), t0, t0 + 30 * H, 10_000, (w, at) => {
      for (const e of events) if (e.found < 0 && e.visibleAt <= at && e.time >= w.startMs && e.time < w.endMs) e.found = at;
    });
    for (const e of events) {
      expect(e.found, `event at ${new Date(e.time).toISOString()}`).toBeGreaterThan(0);
      const lag = e.visibleAt - e.time;
      // found at the first stage whose age is past the lag, within that stage's step
      const stage = schedule.ages.findIndex((a) => a >= lag);
      expect(e.found - e.time).toBeLessThanOrEqual(schedule.ages[stage]! + schedule.steps[stage]! + 20_000 + 90_000);
    }
  });

  it('knows when the next window is due, so the stream can sleep until then', () => {
    const schedule = buildSchedule([10 * M, H], M, D);
    const cursors = [t0, t0 - 30 * M, t0 - 2 * H];
    // stage 0: t0 + 1m; stage 1: room 30m >= step(100s): t0 - 30m + 100s + 10m; stage 2 blocked? room 90m >= 10m: t0 - 2h + 10m + 1h
    expect(nextDueAt(schedule, cursors)).toBe(Math.min(t0 + M, t0 - 30 * M + schedule.steps[1]! + 10 * M, t0 - 2 * H + schedule.steps[2]! + H));
    expect(nextWindow(schedule, cursors, t0 - 61 * M)).toBeUndefined();
  });

  it('never queries gmail for more than 30 days at once', () => {
    const customer = googleCustomerSchema.parse({
      customerId: 'C01',
      credentials: { keyFile: 'k.json' },
      subject: 'admin@example.com',
      backfillChunk: '60d',
      initialLookback: '180d',
      applications: ['gmail', 'admin'],
    });
    const gmail = scheduleOf(customer, customer.applications[0]!);
    const admin = scheduleOf(customer, customer.applications[1]!);
    expect(gmail.maxSpanMs).toBe(30 * D);
    expect(admin.maxSpanMs).toBe(60 * D);
    const w = nextWindow(gmail, initialCursors(gmail, t0, 180 * D, t0 - 180 * D), t0);
    expect(w!.endMs - w!.startMs).toBe(30 * D);
  });

  it('uses the lag profile of each application, scaled for emulators', () => {
    const customer = googleCustomerSchema.parse({ customerId: 'C01', credentials: { key: '{}' }, subject: 'a@example.com', repollAgeScale: 0.001 });
    expect(customer.applications).toHaveLength(41);
    const login = customer.applications.find((a) => a.name === 'login')!;
    const admin = customer.applications.find((a) => a.name === 'admin')!;
    expect(repollAgesOf({ repollAgeScale: 1 }, login)).toEqual([...LAG_PROFILES.hours]);
    expect(repollAgesOf({ repollAgeScale: 1 }, admin)).toEqual([...LAG_PROFILES.minutes]);
    expect(repollAgesOf(customer, login)[0]).toBe(600);
    expect(() => googleCustomerSchema.parse({ customerId: 'C01', credentials: { key: '{}' }, subject: 'a@example.com', initialLookback: '181d' })).toThrow(/180/);
  });

  it('moves cursors out of the retention and names what was skipped', () => {
    const floor = t0 - 180 * D;
    const { cursors, losses } = clampToFloor([t0 - 10 * D, floor - H, floor - 2 * H], floor);
    expect(cursors).toEqual([t0 - 10 * D, floor, floor]);
    expect(losses).toEqual([
      { stage: 1, fromMs: floor - H, toMs: floor },
      { stage: 2, fromMs: floor - 2 * H, toMs: floor },
    ]);
  });

  it('keeps progress when the re-poll ages change, never passing an earlier stage', () => {
    const schedule = buildSchedule([5 * M, 2 * H, 2 * D], M, D);
    const migrated = migrateCursors([0, 10 * M, H], [t0, t0 - 20 * M, t0 - 3 * H], schedule);
    expect(migrated[0]).toBe(t0);
    expect(migrated[1]).toBe(t0 - 20 * M); // old 10m stage covered it at least 5m late
    expect(migrated[2]).toBe(t0 - 3 * H); // nothing covered 2h: the oldest cursor
    expect(migrated[3]).toBe(t0 - 3 * H);
    for (let i = 1; i < migrated.length; i++) expect(migrated[i]!).toBeLessThanOrEqual(migrated[i - 1]!);
    expect(forgetBefore(migrated)).toBeLessThan(t0 - 3 * H);
  });
});
