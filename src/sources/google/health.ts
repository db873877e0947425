import type { StreamHealth } from '../../core/source.ts';

/** The part of a Google stream's document health needs: per re-poll stage, the event time read up to. */
interface CursorsDoc {
  cursors: readonly number[];
}

/** Lag of a Google stream: its first stage's cursor (events before it were read at least once). */
export function googleHealth(state: CursorsDoc): StreamHealth {
  return { watermark: state.cursors[0] };
}

/** The stored document of a Google stream, for `auditrelay status` (pages are not kept, so nothing is pending). */
export function googleStoredView(doc: unknown): { health: StreamHealth; pending: { at: number }[] } {
  const cursors = (doc as Partial<CursorsDoc> | undefined)?.cursors;
  const valid = Array.isArray(cursors) && cursors.every((c) => typeof c === 'number');
  return { health: valid ? googleHealth({ cursors }) : {}, pending: [] };
}
