/**
 * Which content-listing windows to ask for, from the stream's cursor and the clock. Pure.
 * The API filters on contentCreated (start <= created < end), takes windows of at most 24 h, and
 * refuses a start more than 7 days back.
 */
export const MAX_WINDOW_MS = 24 * 3_600_000;
export const RETENTION_MS = 7 * 24 * 3_600_000;
/** Keeps a window computed now valid when the request reaches Microsoft (and survives small skew). */
export const RETENTION_MARGIN_MS = 15 * 60_000;

export interface Window {
  start: number;
  end: number;
}

export interface ListingPlan {
  windows: Window[];
  /** Content created in this span can no longer be listed: it is lost and must be reported. */
  lost?: Window;
}

export function planListing(
  listedUntil: number | undefined,
  now: number,
  options: { initialLookbackMs: number; relistOverlapMs: number },
): ListingPlan {
  const end = floorToSecond(now);
  const earliest = ceilToSecond(now - RETENTION_MS + RETENTION_MARGIN_MS);
  let start = listedUntil === undefined ? end - options.initialLookbackMs : listedUntil - options.relistOverlapMs;
  let lost: Window | undefined;
  if (listedUntil !== undefined && listedUntil < earliest) lost = { start: listedUntil, end: earliest };
  start = Math.max(floorToSecond(start), earliest);
  const windows: Window[] = [];
  for (let s = start; s < end; s += MAX_WINDOW_MS) windows.push({ start: s, end: Math.min(end, s + MAX_WINDOW_MS) });
  return lost ? { windows, lost } : { windows };
}

/** The API's `YYYY-MM-DDTHH:MM:SS` format, UTC. */
export function formatApiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

function floorToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

function ceilToSecond(ms: number): number {
  return Math.ceil(ms / 1000) * 1000;
}
