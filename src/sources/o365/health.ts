import type { StreamHealth } from '../../core/source.ts';
import { committedWatermark, type O365StreamState, restoreState } from './ledger.ts';

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

/** The stored document of an Office 365 stream, for `auditrelay status`: health and when each pending blob was created. */
export function o365StoredView(doc: unknown): { health: StreamHealth; pending: { at: number; expires: number }[] } {
  const state = restoreState(doc);
  return { health: o365Health(state), pending: state.pending.map((b) => ({ at: b.created, expires: b.expires })) };
}
