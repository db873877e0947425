import { apiErrors } from './errors.ts';

/**
 * The time rules of `subscriptions/content` and `subscriptions/notifications` (docs/api-notes.md#o365-time-window):
 * both startTime and endTime or neither (neither = the last 24 hours); formats `YYYY-MM-DD`,
 * `YYYY-MM-DDTHH:MM`, `YYYY-MM-DDTHH:MM:SS` in UTC; start before end; at most 24 hours apart;
 * start no more than 7 days back. All judged against the server's clock, which is how a skewed local
 * clock shows up as AF20055 in the field.
 */
export const DAY_MS = 86_400_000;
export const MAX_WINDOW_MS = DAY_MS;
export const MAX_LOOKBACK_MS = 7 * DAY_MS;
/** A start this far ahead of the server clock is "in the future" and refused. */
export const FUTURE_TOLERANCE_MS = 60_000;

// The three documented formats; a trailing Z and fractional seconds are tolerated as UTC (the
// service parses leniently), but any other offset is not UTC and is refused.
const FORMAT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?Z?$/;

export interface TimeWindow {
  startMs: number;
  endMs: number;
}

/** Parses one time parameter, or undefined if it is not in an accepted format. */
export function parseApiTime(text: string): number | undefined {
  const m = FORMAT.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour = '0', minute = '0', second = '0', fraction = '0'] = m.slice(1).map((v) => v ?? undefined) as string[];
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), Math.floor(Number(`0.${fraction}`) * 1000));
  // Date.UTC rolls 2024-02-31 over to March: refuse what does not round-trip.
  const date = new Date(ms);
  if (date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) {
    return undefined;
  }
  return ms;
}

/** Validates the window of a listing; throws the ApiError the service would answer. */
export function resolveWindow(startText: string | undefined, endText: string | undefined, nowMs: number): TimeWindow {
  const hasStart = startText !== undefined && startText !== '';
  const hasEnd = endText !== undefined && endText !== '';
  if (hasStart !== hasEnd) throw apiErrors.windowParameters();
  if (!hasStart) return { startMs: nowMs - DAY_MS, endMs: nowMs };
  const startMs = parseApiTime(startText as string);
  if (startMs === undefined) throw apiErrors.invalidParameterType('startTime', 'DateTime');
  const endMs = parseApiTime(endText as string);
  if (endMs === undefined) throw apiErrors.invalidParameterType('endTime', 'DateTime');
  const tooLong = endMs - startMs > MAX_WINDOW_MS;
  const backwards = endMs <= startMs;
  const tooOld = startMs < nowMs - MAX_LOOKBACK_MS;
  const inFuture = startMs > nowMs + FUTURE_TOLERANCE_MS;
  if (tooLong || backwards || tooOld || inFuture) throw apiErrors.windowRange(new Date(startMs).toISOString(), new Date(endMs).toISOString());
  return { startMs, endMs };
}
