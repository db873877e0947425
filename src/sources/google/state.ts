import type { SeenSetJson } from './seen-set.ts';

/** The durable document of one application stream. */
export interface GoogleStreamState {
  v: 1;
  /** The schedule's ages when the cursors were saved (a config change migrates them). */
  ages: number[];
  /** Per stage: event time before which the stage has read everything (ms). */
  cursors: number[];
  seen: SeenSetJson;
}

/** Validates a loaded document; undefined for a stream that stored nothing yet; anything unexpected is an error, never a silent reset. */
export function restoreGoogleState(saved: unknown): GoogleStreamState | undefined {
  if (!saved || typeof saved !== 'object') return undefined;
  const s = saved as Partial<GoogleStreamState>;
  const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((n) => typeof n === 'number' && Number.isFinite(n));
  if (s.v !== 1 || !numbers(s.ages) || !numbers(s.cursors) || s.ages.length !== s.cursors.length) {
    throw new Error('the saved state of this stream has an unknown shape; remove it to start again from the look-back');
  }
  return { v: 1, ages: s.ages, cursors: s.cursors, seen: s.seen ?? { buckets: [] } };
}
