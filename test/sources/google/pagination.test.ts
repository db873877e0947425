import { describe, expect, it } from 'vitest';
import { judgePage, newPageGuard, splitWindow } from '../../../src/sources/google/pagination.ts';

describe('Google pagination guards', () => {
  it('follows fresh tokens and ends on a page without one', () => {
    const guard = newPageGuard();
    expect(judgePage(guard, { items: 1000, nextPageToken: 'a' })).toEqual({ next: 'page', token: 'a' });
    expect(judgePage(guard, { items: 1000, nextPageToken: 'b' })).toEqual({ next: 'page', token: 'b' });
    expect(judgePage(guard, { items: 12, nextPageToken: undefined })).toEqual({ next: 'done' });
    expect(judgePage(newPageGuard(), { items: 0, nextPageToken: '' })).toEqual({ next: 'done' });
  });

  it('stops when a token comes back again (the field bug: same token, no items)', () => {
    const guard = newPageGuard();
    judgePage(guard, { items: 1000, nextPageToken: 'a' });
    const verdict = judgePage(guard, { items: 0, nextPageToken: 'a' });
    expect(verdict.next).toBe('stop');
    expect(verdict.next === 'stop' && verdict.reason).toMatch(/repeated/);
  });

  it('tolerates a few empty pages that carry a token, then stops', () => {
    const guard = newPageGuard({ maxPages: 100, maxEmptyPagesInARow: 2 });
    expect(judgePage(guard, { items: 0, nextPageToken: 't1' }).next).toBe('page');
    expect(judgePage(guard, { items: 0, nextPageToken: 't2' }).next).toBe('page');
    const verdict = judgePage(guard, { items: 0, nextPageToken: 't3' });
    expect(verdict.next === 'stop' && verdict.reason).toMatch(/empty pages/);
    // an item resets the count
    const other = newPageGuard({ maxPages: 100, maxEmptyPagesInARow: 1 });
    judgePage(other, { items: 0, nextPageToken: 'x1' });
    judgePage(other, { items: 5, nextPageToken: 'x2' });
    expect(judgePage(other, { items: 0, nextPageToken: 'x3' }).next).toBe('page');
  });

  it('stops endless paging at the page limit', () => {
    const guard = newPageGuard({ maxPages: 5, maxEmptyPagesInARow: 3 });
    const verdicts = Array.from({ length: 5 }, (_, i) => judgePage(guard, { items: 1000, nextPageToken: `t${i}` }).next);
    expect(verdicts).toEqual(['page', 'page', 'page', 'page', 'stop']);
  });

  it('splits a stopped window in halves down to a minimum width', () => {
    expect(splitWindow(0, 600_000)).toEqual([
      [0, 300_000],
      [300_000, 600_000],
    ]);
    expect(splitWindow(0, 119_999)).toBeUndefined();
  });
});
