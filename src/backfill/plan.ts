import type { Config } from '../config/schema.ts';
import { formatDuration } from '../core/time.ts';
import { RETENTION_MS as GOOGLE_RETENTION_MS } from '../sources/google/config.ts';
import { restoreState } from '../sources/o365/ledger.ts';
import { RETENTION_MS as O365_RETENTION_MS } from '../sources/o365/windows.ts';

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
 *   without either a gap or duplicates. For Office 365 there is nothing earlier to re-read anyway
 *   when the stream began with the default 7-day look-back (the API keeps 7 days).
 * - Resumable for free: the state is committed as records are acknowledged, in the same store; a
 *   second `backfill` (or `run`) after an interruption continues from the committed cursors.
 * - Same budgets, same export path, same retries: it *is* `run` (`startDaemon`), with an end.
 */

export interface BackfillPlan {
  config: Config;
  /** Per source kind: how far back streams without state start. */
  lookbackMs: { o365: number; google: number };
  notes: string[];
}

/** The config `run` would use, with the initial look-back of every stream set to `sinceMs` (within each API's limits). */
export function backfillConfig(config: Config, sinceMs: number): BackfillPlan {
  if (!Number.isFinite(sinceMs) || sinceMs <= 0) throw new Error('--since must be a positive duration, e.g. 7d');
  if (config.sources.google.length > 0 && sinceMs > GOOGLE_RETENTION_MS) {
    throw new Error(`--since ${formatDuration(sinceMs)}: the Google Reports API keeps 180 days; ask for at most 180d`);
  }
  const notes: string[] = [];
  const o365 = Math.min(sinceMs, O365_RETENTION_MS);
  if (config.sources.o365.length > 0 && sinceMs > O365_RETENTION_MS) {
    notes.push(`Office 365 keeps content for 7 days: its streams go back 7d, not ${formatDuration(sinceMs)}`);
  }
  const google = Math.min(sinceMs, GOOGLE_RETENTION_MS);
  const next: Config = {
    ...config,
    sources: {
      ...config.sources,
      o365: config.sources.o365.map((t) => ({ ...t, initialLookback: o365 })),
      google: config.sources.google.map((c) => ({ ...c, initialLookback: google })),
    },
  };
  return { config: next, lookbackMs: { o365, google }, notes };
}

/** Where one stream stands, from its committed state document. */
export interface StreamPosition {
  /** Everything before this source time is delivered (or set aside); undefined: nothing committed yet. */
  position?: number;
  /** The stream has read everything up to the backfill's start, and delivered all of it but set-aside items. */
  caughtUp: boolean;
  /** Items of the window that keep failing (Office 365 blobs set aside): not delivered, reported. */
  setAside: number;
}

/**
 * Office 365: listed up to the start (`listedUntil`, on Microsoft's clock: the daemon follows it when
 * the local clock is off by more than 2 minutes), and no blob created before the start left pending
 * except set-aside ones. Google: the first stage has read every event time before the start (later
 * re-poll stages, which look for late events, are `run`'s business).
 */
export function positionOf(kind: string, doc: unknown, startMs: number): StreamPosition {
  if (doc === undefined) return { caughtUp: false, setAside: 0 };
  if (kind === 'o365') {
    const state = restoreState(doc);
    const inWindow = state.pending.filter((b) => b.created < startMs);
    const waiting = inWindow.filter((b) => !b.setAside);
    let position = state.listedUntil;
    for (const b of waiting) if (position === undefined || b.created < position) position = b.created;
    const target = Math.floor(startMs / 1000) * 1000;
    return { position, caughtUp: (state.listedUntil ?? -Infinity) >= target && waiting.length === 0, setAside: inWindow.length - waiting.length };
  }
  const cursors = (doc as { cursors?: unknown }).cursors;
  const first = Array.isArray(cursors) && typeof cursors[0] === 'number' ? cursors[0] : undefined;
  return { position: first, caughtUp: first !== undefined && first >= startMs, setAside: 0 };
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
