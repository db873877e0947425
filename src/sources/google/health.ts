import type { StreamHealth } from '../../core/source.ts';
import type { StreamPosition } from '../entry.ts';
import type { StoredView } from '../../telemetry/status.ts';

/** The part of a Google stream's document health needs: per re-poll stage, the event time read up to. */
interface CursorsDoc {
  cursors: readonly number[];
}

/** Lag of a Google stream: its first stage's cursor (events before it were read at least once). */
export function googleHealth(state: CursorsDoc): StreamHealth {
  return { watermark: state.cursors[0] };
}

/** A stored Google stream, for `auditrelay status` (pages are not kept, so nothing is pending). */
export function googleStoredView(state: CursorsDoc | undefined): StoredView {
  return { health: state ? googleHealth(state) : {}, pending: [] };
}

/** For `backfill`: the first stage has read every event time before the start (later re-poll stages, which look for late events, are `run`'s business). */
export function googlePosition(state: CursorsDoc | undefined, startMs: number): StreamPosition {
  const first = state?.cursors[0];
  if (first === undefined) return { caughtUp: false, setAside: 0 };
  return { position: first, caughtUp: first >= startMs, setAside: 0 };
}
