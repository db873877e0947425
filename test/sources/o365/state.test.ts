import { describe, expect, it } from 'vitest';
import {
  committedWatermark,
  dueBlobs,
  emptyState,
  markDelivered,
  markFailed,
  markLost,
  mergeListing,
  parseApiDate,
  pruneDone,
  restoreState,
} from '../../../src/sources/o365/state.ts';

const H = 3_600_000;
const t0 = Date.parse('2026-11-22T00:00:00Z');
const blob = (id: string, createdMs: number) => ({
  contentId: id,
  contentUri: `https://x/${id}`,
  contentCreated: new Date(createdMs).toISOString(),
  contentExpiration: new Date(createdMs + 7 * 24 * H).toISOString(),
});

describe('ledger', () => {
  it('enters each listed blob once, whatever the overlap of listings, and never one already delivered', () => {
    let { state } = mergeListing(emptyState(), [blob('a', t0), blob('b', t0 + 1000)], { start: t0, end: t0 + H });
    state = markDelivered(state, 'a');
    const again = mergeListing(state, [blob('a', t0), blob('b', t0 + 1000), blob('c', t0 + 2000)], { start: t0, end: t0 + 2 * H });
    expect(again.added).toBe(1);
    expect(again.state.pending.map((b) => b.id).sort()).toEqual(['b', 'c']);
    expect(again.state.listedUntil).toBe(t0 + 2 * H);
  });

  it('never moves listedUntil backwards', () => {
    const { state } = mergeListing(emptyState(), [], { start: t0, end: t0 + 5 * H });
    expect(mergeListing(state, [], { start: t0, end: t0 + H }).state.listedUntil).toBe(t0 + 5 * H);
  });

  it('serves due blobs in expiry order and holds failed ones until their retry time', () => {
    let { state } = mergeListing(emptyState(), [blob('late', t0 + 2 * H), blob('early', t0)], { start: t0, end: t0 + 3 * H });
    expect(dueBlobs(state, t0).map((b) => b.id)).toEqual(['early', 'late']);
    state = markFailed(state, 'early', 'HTTP 500', t0, 5, () => 0.5);
    expect(dueBlobs(state, t0).map((b) => b.id)).toEqual(['late']);
    const retryAt = state.pending.find((b) => b.id === 'early')!.retryAt!;
    expect(retryAt).toBeGreaterThan(t0);
    expect(dueBlobs(state, retryAt).map((b) => b.id)).toEqual(['early', 'late']);
  });

  it('sets a blob aside after the last attempt, keeping it (reported, retried hourly), never dropping it', () => {
    let { state } = mergeListing(emptyState(), [blob('x', t0)], { start: t0, end: t0 + H });
    for (let i = 0; i < 3; i++) state = markFailed(state, 'x', 'not JSON', t0, 3);
    const entry = state.pending.find((b) => b.id === 'x')!;
    expect(entry.setAside).toBe(true);
    expect(entry.attempts).toBe(3);
    expect(entry.retryAt).toBe(t0 + H);
  });

  it('records an expired blob as a loss', () => {
    const { state } = mergeListing(emptyState(), [blob('x', t0)], { start: t0, end: t0 + H });
    const lost = markLost(state, 'x', 'expired', 'AF20051', t0 + 8 * 24 * H);
    expect(lost.pending).toEqual([]);
    expect(lost.losses).toEqual([{ kind: 'expired', from: t0, to: t0, detail: 'AF20051', at: t0 + 8 * 24 * H }]);
  });

  it('forgets delivered blobs only once no re-list can return them', () => {
    let { state } = mergeListing(emptyState(), [blob('old', t0), blob('new', t0 + 5 * H)], { start: t0, end: t0 + 6 * H });
    state = markDelivered(markDelivered(state, 'old'), 'new');
    const pruned = pruneDone(state, H);
    expect(Object.keys(pruned.done)).toEqual(['new']);
  });

  it('reports the oldest undelivered point as the watermark', () => {
    const { state } = mergeListing(emptyState(), [blob('a', t0 + H)], { start: t0, end: t0 + 4 * H });
    expect(committedWatermark(state)).toBe(t0 + H);
    expect(committedWatermark(markDelivered(state, 'a'))).toBe(t0 + 4 * H);
  });

  it('reads API dates with and without a zone as UTC, and refuses garbage', () => {
    expect(parseApiDate('2026-11-22T05:00:00.000Z')).toBe(Date.parse('2026-11-22T05:00:00Z'));
    expect(parseApiDate('2026-11-22T05:00:00')).toBe(Date.parse('2026-11-22T05:00:00Z'));
    expect(() => parseApiDate('yesterday')).toThrow(/unreadable date/);
  });

  it('refuses a stored document of unknown shape instead of starting over', () => {
    expect(() => restoreState({ v: 9 })).toThrow(/unknown shape/);
    expect(restoreState(undefined)).toEqual(emptyState());
  });
});
