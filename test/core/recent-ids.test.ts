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

describe('RecentIds', () => {
  it('evicts the oldest live id, skipping ids deleted or re-added since they went in', () => {
    const ids = new RecentIds(3);
    ids.add('a');
    ids.add('b');
    ids.add('c');
    ids.delete('a'); // its queue entry is stale now
    ids.add('d'); // 3 live: b c d
    expect([...'abcd'].filter((x) => ids.has(x))).toEqual(['b', 'c', 'd']);
    ids.delete('b');
    ids.add('b'); // re-added: now the newest
    ids.add('e'); // evicts c, the oldest live one
    expect([...'abcde'].filter((x) => ids.has(x))).toEqual(['b', 'd', 'e']);
    expect(ids.size).toBe(3);
  });

  it('stays exact over many adds and deletes (against a plain model)', () => {
    const capacity = 50;
    const ids = new RecentIds(capacity);
    const model: string[] = [];
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let step = 0; step < 20_000; step++) {
      const id = `id${Math.floor(rand() * 200)}`;
      if (rand() < 0.2) {
        ids.delete(id);
        const at = model.indexOf(id);
        if (at >= 0) model.splice(at, 1);
      } else {
        ids.add(id);
        if (!model.includes(id)) {
          model.push(id);
          if (model.length > capacity) model.shift();
        }
      }
      if (step % 997 === 0) expect(Array.from({ length: 200 }, (_, i) => `id${i}`).filter((x) => ids.has(x)).sort()).toEqual([...model].sort());
    }
    expect(ids.size).toBe(model.length);
  });
});
