/**
 * Guards for paging through one window (pure). Seen in the field: the same nextPageToken returned
 * again with no items, empty pages that still carry a token, endless token loops.
 * A page token is only valid for the query (window) it came from: a guard lives for one window read.
 */

export interface PageLimits {
  /** Pages in one window before we stop (1000 activities each). */
  maxPages: number;
  /** Empty pages in a row that still carry a token before we stop. */
  maxEmptyPagesInARow: number;
}

export const DEFAULT_PAGE_LIMITS: PageLimits = { maxPages: 10_000, maxEmptyPagesInARow: 3 };

export interface PageGuard {
  readonly limits: PageLimits;
  /** Every token requested or received in this window. */
  readonly tokens: Set<string>;
  pages: number;
  emptyInARow: number;
}

export type PageVerdict = { next: 'page'; token: string } | { next: 'done' } | { next: 'stop'; reason: string };

export function newPageGuard(limits: PageLimits = DEFAULT_PAGE_LIMITS): PageGuard {
  return { limits, tokens: new Set(), pages: 0, emptyInARow: 0 };
}

/** Decides what follows a page that held `items` activities and `nextPageToken`. Updates the guard. */
export function judgePage(guard: PageGuard, page: { items: number; nextPageToken?: string | null }): PageVerdict {
  guard.pages += 1;
  const token = page.nextPageToken ?? '';
  if (token === '') return { next: 'done' };
  if (guard.tokens.has(token)) return { next: 'stop', reason: `page ${guard.pages} repeated an earlier page token` };
  guard.emptyInARow = page.items === 0 ? guard.emptyInARow + 1 : 0;
  if (guard.emptyInARow > guard.limits.maxEmptyPagesInARow) {
    return { next: 'stop', reason: `${guard.emptyInARow} empty pages in a row still carried a page token` };
  }
  if (guard.pages >= guard.limits.maxPages) return { next: 'stop', reason: `more than ${guard.limits.maxPages} pages in one window` };
  guard.tokens.add(token);
  return { next: 'page', token };
}

/** A window whose paging was stopped is read again in two halves (fewer pages each), down to this width. */
export const MIN_SPLIT_MS = 60_000;

export function splitWindow(startMs: number, endMs: number, minWidthMs = MIN_SPLIT_MS): [number, number][] | undefined {
  if (endMs - startMs < 2 * minWidthMs) return undefined;
  const mid = startMs + Math.floor((endMs - startMs) / 2);
  return [
    [startMs, mid],
    [mid, endMs],
  ];
}
