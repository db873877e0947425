import type { Config } from '../config/schema.ts';
import { formatDuration } from '../core/time.ts';
import type { StreamPosition } from '../sources/entry.ts';
import { SOURCE_LIST, type SourceKind, sourceOf } from '../sources/index.ts';

/**
 * `auditrelay backfill` drains history by running the daemon's own streams until they are caught
 * up with the moment the backfill started, then stops. Pure decisions live here.
 *
 * Why the same streams (same ids, same state documents) rather than separate backfill streams that
 * extend cursors backwards:
 * - One cursor per feed: records are delivered by exactly one stream, so a backfill can never
 *   duplicate what `run` delivers, and `run` continues exactly where a backfill stopped.
 * - Nothing ever moves a cursor backwards: `--since` only sets the initial look-back of streams that
 *   have no state yet. A stream that already has state is continued forward from its cursor (the
 *   backfill then catches it up to now); its history before that is not re-read, because the state
 *   does not say where the stream began, so a backwards extension could not know where to stop
 *   without either a gap or duplicates. A stream that began with a look-back of its API's whole
 *   retention has nothing earlier to re-read anyway.
 * - Resumable for free: the state is committed as records are acknowledged, in the same store; a
 *   second `backfill` (or `run`) after an interruption continues from the committed cursors.
 * - Same budgets, same export path, same retries: it *is* `run` (`startDaemon`), with an end.
 */

export interface BackfillPlan {
  config: Config;
  /** Per source kind: how far back streams without state start. */
  lookbackMs: Record<string, number>;
  notes: string[];
}

const DAY_MS = 86_400_000;

/**
 * The config `run` would use, with the initial look-back of every stream set to `sinceMs`, within
 * each API's retention (a source keeping less goes back as far as it keeps, with a note).
 */
export function backfillConfig(config: Config, sinceMs: number): BackfillPlan {
  if (!Number.isFinite(sinceMs) || sinceMs <= 0) throw new Error('--since must be a positive duration, e.g. 7d');
  const notes: string[] = [];
  const lookbackMs: Record<string, number> = {};
  const sources: Record<string, unknown[]> = { ...config.sources };
  for (const source of SOURCE_LIST) {
    const entries = config.sources[source.kind as SourceKind];
    const lookback = Math.min(sinceMs, source.retentionMs);
    lookbackMs[source.kind] = lookback;
    sources[source.kind] = entries.map((e) => ({ ...e, initialLookback: lookback }));
    if (entries.length > 0 && sinceMs > source.retentionMs) {
      const days = Math.round(source.retentionMs / DAY_MS);
      notes.push(`${source.title} keeps ${days} days of history: its streams go back ${days}d, not ${formatDuration(sinceMs)}`);
    }
  }
  return { config: { ...config, sources: sources as Config['sources'] }, lookbackMs, notes };
}

/** Where a stream stands, from its committed state document (the source reads its own). */
export function positionOf(kind: string, doc: unknown, startMs: number): StreamPosition {
  const source = sourceOf(kind);
  if (!source) return { caughtUp: false, setAside: 0 };
  return source.state.position(source.state.restore(doc), startMs);
}

export interface ProgressSnapshot {
  /** 0..1 over all streams. */
  fraction: number;
  streams: number;
  caughtUp: number;
  /** Stopped on a configuration problem: they will not catch up in this run. */
  failed: number;
  records: number;
  setAside: number;
  /** The stream furthest behind (id and how far behind the start), while any is behind. */
  slowest?: { id: string; behindMs: number };
}

export interface StreamProgressInput {
  id: string;
  kind: string;
  /** Where the stream stood when the backfill began (undefined: no state, starts at `startMs - lookback`). */
  from: number;
  position: StreamPosition;
  failed: boolean;
  exported: number;
}

export function snapshot(streams: StreamProgressInput[], startMs: number): ProgressSnapshot {
  let sum = 0;
  let caughtUp = 0;
  let failed = 0;
  let records = 0;
  let setAside = 0;
  let slowest: ProgressSnapshot['slowest'];
  for (const s of streams) {
    records += s.exported;
    setAside += s.position.setAside;
    if (s.failed) {
      failed++;
      sum += 1;
      continue;
    }
    if (s.position.caughtUp) {
      caughtUp++;
      sum += 1;
      continue;
    }
    const span = startMs - s.from;
    const at = s.position.position ?? s.from;
    sum += span > 0 ? Math.min(0.999, Math.max(0, (at - s.from) / span)) : 0.999;
    const behindMs = startMs - at;
    if (!slowest || behindMs > slowest.behindMs) slowest = { id: s.id, behindMs };
  }
  return { fraction: streams.length ? sum / streams.length : 1, streams: streams.length, caughtUp, failed, records, setAside, ...(slowest ? { slowest } : {}) };
}

export function isDone(s: ProgressSnapshot): boolean {
  return s.caughtUp + s.failed === s.streams;
}

/** One progress line; `barWidth` > 0 draws a bar (TTY), 0 a plain line (logs, pipes). */
export function renderProgress(s: ProgressSnapshot, barWidth: number): string {
  const pct = `${Math.floor(s.fraction * 100)}%`.padStart(4);
  const bar = barWidth > 0 ? `[${'#'.repeat(Math.round(s.fraction * barWidth)).padEnd(barWidth, '-')}] ` : '';
  const parts = [`${s.caughtUp}/${s.streams} streams caught up`, `${s.records.toLocaleString('en-US')} records exported`];
  if (s.failed) parts.push(`${s.failed} stopped (config)`);
  if (s.setAside) parts.push(`${s.setAside} blobs set aside`);
  if (s.slowest) parts.push(`slowest ${s.slowest.id} ${formatDuration(s.slowest.behindMs)} behind`);
  return `backfill ${bar}${pct}  ${parts.join(', ')}`;
}
