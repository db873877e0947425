import type { StreamHealth } from '../../core/source.ts';
import type { StreamPosition } from '../entry.ts';
import type { StoredView } from '../../telemetry/status.ts';
import { committedWatermark, type O365StreamState } from './state.ts';

/** What an Office 365 stream's ledger says about lag, risk and losses (live, or read back by `status`). */
export function o365Health(state: O365StreamState, subscribed?: boolean): StreamHealth {
  return {
    watermark: committedWatermark(state),
    pending: state.pending.length,
    setAside: state.pending.filter((b) => b.setAside).length,
    // Not yet delivered and deleted by Microsoft before now + horizon: fetch them or lose them.
    atRisk: (now, horizonMs) => state.pending.filter((b) => b.expires <= now + horizonMs).length,
    subscribed,
    losses: state.losses,
  };
}

/** A stored Office 365 stream, for `auditrelay status`: health and when each pending blob was created. */
export function o365StoredView(state: O365StreamState): StoredView {
  return { health: o365Health(state), pending: state.pending.map((b) => ({ at: b.created, expires: b.expires })) };
}

/**
 * For `backfill`: listed up to the start (`listedUntil`, on Microsoft's clock: the daemon follows it
 * when the local clock is off by more than 2 minutes), and no blob created before the start left
 * pending except set-aside ones.
 */
export function o365Position(state: O365StreamState, startMs: number): StreamPosition {
  const inWindow = state.pending.filter((b) => b.created < startMs);
  const waiting = inWindow.filter((b) => !b.setAside);
  let position = state.listedUntil;
  for (const b of waiting) if (position === undefined || b.created < position) position = b.created;
  const target = Math.floor(startMs / 1000) * 1000;
  const caughtUp = (state.listedUntil ?? -Infinity) >= target && waiting.length === 0;
  return { ...(position !== undefined ? { position } : {}), caughtUp, setAside: inWindow.length - waiting.length };
}
