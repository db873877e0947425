import { describe, expect, it } from 'vitest';
import { SeenSet } from '../../../src/sources/google/seen-set.ts';

const t0 = Date.parse('2026-11-22T12:00:00Z');

describe('Google seen-set', () => {
  it('remembers delivered uids by event time and survives a round trip through JSON', () => {
    const set = new SeenSet(1000);
    set.add('uid-a', t0 + 5);
    set.add('uid-b', t0 + 61_000);
    expect(set.has('uid-a', t0 + 5)).toBe(true);
    expect(set.has('uid-c', t0 + 5)).toBe(false);
    const copy = SeenSet.fromJSON(JSON.parse(JSON.stringify(set.toJSON())), 1000);
    expect(copy.size).toBe(2);
    expect(copy.has('uid-b', t0 + 61_000)).toBe(true);
    expect(copy.has('uid-a', t0 + 5)).toBe(true);
  });

  it('never holds more than its bound, forgetting the oldest event times first', () => {
    const set = new SeenSet(1000);
    let forgotten = 0;
    for (let i = 0; i < 1500; i++) forgotten += set.add(`uid-${i}`, t0 + i * 1000);
    expect(set.size).toBe(1000);
    expect(forgotten).toBe(500);
    expect(set.has('uid-1499', t0 + 1499 * 1000)).toBe(true);
    expect(set.has('uid-0', t0)).toBe(false);
    expect(set.oldestMs()).toBeGreaterThanOrEqual(t0 + 480_000);
    // a saved set larger than a smaller bound is cut on load
    expect(SeenSet.fromJSON(set.toJSON(), 1000 - 100).size).toBe(900);
  });

  it('forgets whole minutes no re-poll will read again', () => {
    const set = new SeenSet(1000);
    set.add('old', t0 - 120_000);
    set.add('edge', t0 - 30_000);
    set.add('new', t0 + 1);
    expect(set.forgetBefore(t0 - 59_000)).toBe(1);
    expect(set.has('old', t0 - 120_000)).toBe(false);
    expect(set.has('edge', t0 - 30_000)).toBe(true);
    expect(set.size).toBe(2);
  });

  it('counts a repeated add once', () => {
    const set = new SeenSet(1000);
    set.add('x', t0);
    set.add('x', t0);
    expect(set.size).toBe(1);
  });
});
