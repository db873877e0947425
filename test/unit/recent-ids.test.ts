import { describe, expect, it } from 'vitest';
import { RecentIds, scopedRecentIds } from '../../src/core/recent-ids.ts';

describe('RecentIds shared by streams', () => {
  it('keeps each stream apart and bounds all of them together, oldest out first', () => {
    const shared = new RecentIds(3);
    const a = scopedRecentIds(shared, '0.0:');
    const b = scopedRecentIds(shared, '0.1:');
    a.add('x');
    expect(a.has('x')).toBe(true);
    expect(b.has('x')).toBe(false);
    b.add('x');
    b.add('y');
    expect(shared.size).toBe(3);
    a.add('z'); // pushes out a's 'x', the oldest
    expect(shared.size).toBe(3);
    expect(a.has('x')).toBe(false);
    expect(b.has('x')).toBe(true);
    b.delete('x');
    expect(b.has('x')).toBe(false);
    expect(shared.size).toBe(2);
  });
});
