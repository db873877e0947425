import { describe, expect, it } from 'vitest';
import { formatApiTime, MAX_WINDOW_MS, planListing, RETENTION_MARGIN_MS, RETENTION_MS } from '../../../src/sources/o365/windows.ts';

const H = 3_600_000;
const now = Date.parse('2026-11-22T12:00:00.500Z');
const opts = { initialLookbackMs: 7 * 24 * H, relistOverlapMs: H };

describe('planListing', () => {
  it('starts a new stream at the initial look-back, clamped inside the 7-day limit, in windows of at most 24 h', () => {
    const plan = planListing(undefined, now, opts);
    expect(plan.lost).toBeUndefined();
    expect(plan.windows[0]!.start).toBe(Math.ceil((now - RETENTION_MS + RETENTION_MARGIN_MS) / 1000) * 1000);
    expect(plan.windows.at(-1)!.end).toBe(Date.parse('2026-11-22T12:00:00Z'));
    for (const w of plan.windows) expect(w.end - w.start).toBeLessThanOrEqual(MAX_WINDOW_MS);
    for (let i = 1; i < plan.windows.length; i++) expect(plan.windows[i]!.start).toBe(plan.windows[i - 1]!.end);
  });

  it('re-lists the overlap before the cursor so blobs listed late are found', () => {
    const listedUntil = now - 10 * 60_000;
    const plan = planListing(listedUntil, now, opts);
    expect(plan.windows).toHaveLength(1);
    expect(plan.windows[0]!.start).toBe(Math.floor((listedUntil - H) / 1000) * 1000);
  });

  it('reports the span lost when the cursor fell behind the retention, and resumes at the earliest listable time', () => {
    const listedUntil = now - 9 * 24 * H;
    const plan = planListing(listedUntil, now, opts);
    expect(plan.lost).toBeDefined();
    expect(plan.lost!.start).toBe(listedUntil);
    expect(plan.lost!.end).toBe(plan.windows[0]!.start);
    expect(now - plan.windows[0]!.start).toBeLessThan(RETENTION_MS);
  });

  it('asks for nothing when the cursor is at now', () => {
    expect(planListing(now + 2 * H, now, { ...opts, relistOverlapMs: 0 }).windows).toEqual([]);
  });

  it('formats times the way the API documents (UTC, seconds, no zone)', () => {
    expect(formatApiTime(Date.parse('2026-11-22T05:06:07.890Z'))).toBe('2026-11-22T05:06:07');
  });
});
