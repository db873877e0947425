/**
 * Which time windows of one application to poll next: pure, from the stream's cursors and `now`.
 *
 * Google delivers events late and out of order, so a window of event time is read more than once:
 * first as soon as it closes (stage 0), then again each time its end reaches one of the re-poll ages
 * (stage k, age a_k). Each stage has a cursor c_k: every event time before c_k has been read at a
 * moment when it was at least a_k old. Cursors never pass the stage before them
 * (c_0 >= c_1 >= ... >= c_K), and a read that happens when the window is already older than later
 * ages counts for those stages too, so a backfill of old history is read once, not once per stage.
 *
 * A stage waits until its pending range is at least its step wide (a sixth of its age, at least the
 * poll interval), so older stages read fewer, larger windows: a late event is found within about
 * a_k + step_k of its time, and the cost of re-polling stays a small multiple of the data.
 */

const MAX_STEP_MS = 4 * 3_600_000;
/** Query windows overlap by this much at their start, so an event on a boundary is never missed. */
export const BOUNDARY_OVERLAP_MS = 1000;

export interface Schedule {
  /** ages[0] = 0 (first read); then the re-poll ages, strictly increasing. */
  ages: number[];
  /** Smallest range each stage reads at once. */
  steps: number[];
  /** Largest window per query (backfill chunk; gmail at most 30 days). */
  maxSpanMs: number;
}

export interface Window {
  stage: number;
  startMs: number;
  endMs: number;
}

export function buildSchedule(repollAges: number[], pollIntervalMs: number, maxSpanMs: number): Schedule {
  const ages = [0, ...[...new Set(repollAges)].filter((a) => a > 0).sort((a, b) => a - b)];
  const steps = ages.map((age, k) => (k === 0 ? pollIntervalMs : Math.min(maxSpanMs, Math.max(pollIntervalMs, Math.min(MAX_STEP_MS, Math.round(age / 6))))));
  return { ages, steps, maxSpanMs };
}

/** Cursors of a stream that never ran: every stage starts `lookbackMs` ago (never before `floorMs`). */
export function initialCursors(schedule: Schedule, now: number, lookbackMs: number, floorMs: number): number[] {
  const start = Math.max(now - lookbackMs, floorMs);
  return schedule.ages.map(() => start);
}

export interface RetentionLoss {
  stage: number;
  fromMs: number;
  toMs: number;
}

/**
 * Moves cursors that fell behind the API's retention up to `floorMs`. For stage 0 the skipped range
 * was never read (events lost); for later stages only its re-polls are skipped (late events may be).
 */
export function clampToFloor(cursors: number[], floorMs: number): { cursors: number[]; losses: RetentionLoss[] } {
  const losses: RetentionLoss[] = [];
  const out = cursors.map((c, stage) => {
    if (c >= floorMs) return c;
    losses.push({ stage, fromMs: c, toMs: floorMs });
    return floorMs;
  });
  return { cursors: out, losses };
}

function limitOf(schedule: Schedule, cursors: number[], stage: number, now: number): number {
  const byAge = now - (schedule.ages[stage] as number);
  return stage === 0 ? byAge : Math.min(byAge, cursors[stage - 1] as number);
}

/** The next window to read, lowest stage first (fresh events before re-polls), or undefined if none is due. */
export function nextWindow(schedule: Schedule, cursors: number[], now: number): Window | undefined {
  for (let stage = 0; stage < schedule.ages.length; stage++) {
    const start = cursors[stage] as number;
    const limit = limitOf(schedule, cursors, stage, now);
    if (limit - start >= (schedule.steps[stage] as number)) {
      return { stage, startMs: start, endMs: Math.min(limit, start + schedule.maxSpanMs) };
    }
  }
  return undefined;
}

/**
 * When the next window becomes due if no other window is read before: the earliest time at which a
 * stage with room before its predecessor's cursor has a full step.
 */
export function nextDueAt(schedule: Schedule, cursors: number[]): number {
  let due = Number.POSITIVE_INFINITY;
  for (let stage = 0; stage < schedule.ages.length; stage++) {
    const start = cursors[stage] as number;
    const step = schedule.steps[stage] as number;
    if (stage > 0 && (cursors[stage - 1] as number) - start < step) continue;
    due = Math.min(due, start + step + (schedule.ages[stage] as number));
  }
  return due;
}

/**
 * Cursors after `window` was read by a read that began at `readAtMs`. Every event time before
 * `readAtMs - a_k` was at least a_k old at that read, so a later stage whose cursor stood at the
 * window's start advances over that part of the window too (all of it for a backfill chunk).
 * `readAtMs` undefined: the read was incomplete (paging stopped by a guard), so it counts for the
 * window's own stage only and every later stage still reads the window itself.
 */
export function advance(schedule: Schedule, cursors: number[], window: Window, readAtMs: number | undefined): number[] {
  const out = [...cursors];
  if (out[window.stage] !== window.startMs) throw new Error(`window ${window.startMs} does not start at stage ${window.stage}'s cursor`);
  out[window.stage] = window.endMs;
  if (readAtMs === undefined) return out;
  for (let stage = window.stage + 1; stage < out.length; stage++) {
    const coveredUntil = Math.min(window.endMs, readAtMs - (schedule.ages[stage] as number));
    if (out[stage] !== window.startMs || coveredUntil <= window.startMs) break;
    out[stage] = coveredUntil;
  }
  return out;
}

/**
 * Cursors saved under other re-poll ages (the config changed): stage 0 keeps its cursor; each new
 * stage takes the cursor of the first old stage whose age was at least as large (it read that much
 * at least that late), or the oldest cursor when none was. Never past the stage before it.
 */
export function migrateCursors(oldAges: number[], oldCursors: number[], schedule: Schedule): number[] {
  if (oldAges.length === schedule.ages.length && oldAges.every((a, i) => a === schedule.ages[i])) return [...oldCursors];
  const oldest = Math.min(...oldCursors);
  const out: number[] = [];
  schedule.ages.forEach((age, stage) => {
    if (stage === 0) {
      out.push(oldCursors[0] as number);
      return;
    }
    const match = oldAges.findIndex((a) => a >= age);
    const candidate = match === -1 ? oldest : (oldCursors[match] as number);
    out.push(Math.min(candidate, out[stage - 1] as number));
  });
  return out;
}

/** Event times before this can no longer be read again by any stage: the seen-set may forget them. */
export function forgetBefore(cursors: number[]): number {
  return Math.min(...cursors) - 2 * BOUNDARY_OVERLAP_MS;
}
