import type { LeaseTable, ReplicaReport, StreamLease } from '../core/coordinator.ts';
import type { StreamHealth, StreamLoss } from '../core/source.ts';
import { formatDuration } from '../core/time.ts';
import type { StateStore } from '../core/state-store.ts';
import { type CompletenessDoc, completenessKey, emptyCounts, type HourCounts, hourKey, parseCompleteness } from './completeness.ts';

/** What `auditrelay status` reads back from a stream's stored document. */
export interface StoredView {
  health: StreamHealth;
  /** Items listed and not yet delivered: their source time and, if the source deletes them, when. */
  pending: { at: number; expires?: number }[];
}

/** How to read one stream's stored document, by the stream's kind (its id's first part); undefined for a kind nobody knows. */
export type StoredViews = (kind: string) => ((doc: unknown) => StoredView) | undefined;

export interface HourRow extends HourCounts {
  hour: string;
  /** Listed, not yet delivered, still being worked on. */
  pending: number;
  /** Of those, deleted by the source within the horizon. */
  atRisk: number;
  /** Listed but neither exported, lost nor pending: unaccounted for. */
  gap: number;
  flags: string[];
}

export interface StreamReport {
  id: string;
  source: string;
  watermark?: string;
  /** Now minus the watermark, in ms. */
  lagMs?: number;
  pending?: number;
  atRisk?: number;
  setAside?: number;
  subscribed?: boolean;
  losses: (Omit<StreamLoss, 'from' | 'to' | 'at'> & { from: string; to: string; at: string })[];
  /** The stored document could not be read (message), the ledger still shows. */
  error?: string;
  /** Replicas (postgres store): who holds the stream's lease and what its loop is doing there. */
  lease?: StreamLease;
  hours: HourRow[];
}

export interface StatusReport {
  generatedAt: string;
  store: string;
  atRiskHorizonMs: number;
  /** Replicas (postgres store) known to the store. */
  replicas?: ReplicaReport[];
  streams: StreamReport[];
  /** Hours with gaps, blobs set aside or at risk, known losses, and streams no replica runs or stopped by a configuration problem. */
  problems: number;
}

const NOT_STREAMS = ['completeness/', 'health/'];

/**
 * Reads every stream's document (each source reads its own: `views`) and completeness ledger from
 * the store (nothing is written), and, for a shared store, every stream's lease (`leases`).
 */
export async function readStatus(store: StateStore, now: number, horizonMs: number, views: StoredViews, leases?: LeaseTable): Promise<StatusReport> {
  const keys = await store.keys('');
  const ids = new Set<string>();
  for (const key of keys) {
    if (key.startsWith('completeness/')) ids.add(key.slice('completeness/'.length));
    else if (!NOT_STREAMS.some((p) => key.startsWith(p))) ids.add(key);
  }
  const leaseOf = new Map((leases?.leases ?? []).map(({ stream, ...lease }) => [stream, lease]));
  for (const id of leaseOf.keys()) ids.add(id);
  const streams: StreamReport[] = [];
  for (const id of [...ids].sort()) {
    const ledger = parseCompleteness(await store.get(completenessKey(id)).catch(() => undefined));
    const source = id.split('/')[0] ?? '';
    const reader = views(source);
    let view: StoredView = { health: {}, pending: [] };
    let error: string | undefined;
    if (reader) {
      try {
        view = reader(await store.get(id));
      } catch (err) {
        error = (err as Error).message;
      }
    }
    const report = streamReport(id, source, view, ledger, now, horizonMs, error);
    const lease = leaseOf.get(id);
    if (lease) report.lease = lease;
    streams.push(report);
  }
  const leaseProblem = (s: StreamReport) => (leases && (!s.lease?.live || s.lease.phase === 'config-error') ? 1 : 0);
  const problems = streams.reduce((n, s) => n + s.losses.length + s.hours.filter((h) => h.flags.length > 0 && !onlyPending(h)).length + leaseProblem(s), 0);
  return {
    generatedAt: new Date(now).toISOString(),
    store: store.location,
    atRiskHorizonMs: horizonMs,
    ...(leases ? { replicas: leases.replicas } : {}),
    streams,
    problems,
  };
}

/** One line on who runs the stream: the lease holder and what its loop is doing, or that nobody does. */
export function describeLease(lease: StreamLease | undefined): string {
  if (!lease) return 'lease: none yet (no replica has taken this stream)';
  if (!lease.live) {
    return `lease: EXPIRED ${formatDuration(-lease.expiresInMs)} ago (last held by ${lease.owner}, epoch ${lease.epoch}): NO replica runs this stream`;
  }
  const phase = lease.phase ?? 'starting';
  const flag = phase === 'config-error' ? ' (CONFIGURATION PROBLEM: see that replica\'s log)' : '';
  return `lease: ${lease.owner} (epoch ${lease.epoch}), ${phase}${flag}, renewed ${formatDuration(lease.renewedAgoMs)} ago`;
}

function onlyPending(h: HourRow): boolean {
  return h.flags.every((f) => f.startsWith('pending'));
}

export function streamReport(id: string, source: string, view: StoredView, ledger: CompletenessDoc, now: number, horizonMs: number, error?: string): StreamReport {
  const { health } = view;
  const pendingByHour = new Map<string, { pending: number; atRisk: number }>();
  for (const p of view.pending) {
    const key = hourKey(p.at);
    const entry = pendingByHour.get(key) ?? { pending: 0, atRisk: 0 };
    entry.pending++;
    if (p.expires !== undefined && p.expires <= now + horizonMs) entry.atRisk++;
    pendingByHour.set(key, entry);
  }
  const hourKeys = [...new Set([...Object.keys(ledger.hours), ...pendingByHour.keys()])].sort();
  const hours = hourKeys.map((hour): HourRow => {
    const c = ledger.hours[hour] ?? emptyCounts();
    const p = pendingByHour.get(hour) ?? { pending: 0, atRisk: 0 };
    const gap = Math.max(0, c.listed - c.exported - c.lost - p.pending);
    const flags: string[] = [];
    if (gap > 0) flags.push(`GAP ${gap}`);
    if (c.lost > 0) flags.push(`LOST ${c.lost}`);
    if (c.setAside > 0) flags.push(`SET ASIDE ${c.setAside}`);
    if (p.atRisk > 0) flags.push(`AT RISK ${p.atRisk}`);
    if (p.pending > 0) flags.push(`pending ${p.pending}`);
    return { hour, ...c, pending: p.pending, atRisk: p.atRisk, gap, flags };
  });
  const report: StreamReport = {
    id,
    source,
    losses: (health.losses ?? []).map((l) => ({ ...l, from: iso(l.from), to: iso(l.to), at: iso(l.at) })),
    hours,
  };
  if (health.watermark !== undefined) {
    report.watermark = iso(health.watermark);
    report.lagMs = Math.max(0, now - health.watermark);
  }
  if (health.pending !== undefined) report.pending = health.pending;
  if (health.atRisk) report.atRisk = health.atRisk(now, horizonMs);
  if (health.setAside !== undefined) report.setAside = health.setAside;
  if (health.subscribed !== undefined) report.subscribed = health.subscribed;
  if (error !== undefined) report.error = error;
  return report;
}

const COLUMNS: [keyof HourRow, string][] = [
  ['listed', 'listed'],
  ['fetched', 'fetched'],
  ['exported', 'exported'],
  ['setAside', 'set-aside'],
  ['lost', 'lost'],
  ['records', 'records'],
];

/** The report as text: one block per stream, one line per hour, flags on the right. */
export function formatStatus(report: StatusReport): string {
  const lines: string[] = [`auditrelay status at ${report.generatedAt} (state: ${report.store}; at risk = deleted by the source within ${formatDuration(report.atRiskHorizonMs)})`];
  if (report.replicas) {
    const live = report.replicas.filter((r) => r.live);
    lines.push(
      `replicas: ${live.length} live${live.length > 0 ? `: ${live.map((r) => `${r.id} (${r.held} streams, heartbeat ${formatDuration(r.heartbeatAgoMs)} ago)`).join(', ')}` : ''}`,
    );
  }
  if (report.streams.length === 0) lines.push('', 'no stream has stored anything yet');
  for (const s of report.streams) {
    lines.push('', s.id);
    if (report.replicas) lines.push(`  ${describeLease(s.lease)}`);
    const summary = [
      s.watermark ? `watermark ${s.watermark} (${formatDuration(s.lagMs ?? 0)} behind)` : 'no watermark yet',
      s.pending !== undefined ? `pending ${s.pending}` : undefined,
      s.atRisk !== undefined ? `at risk ${s.atRisk}` : undefined,
      s.setAside !== undefined ? `set aside ${s.setAside}` : undefined,
      `losses ${s.losses.length}`,
    ].filter(Boolean);
    lines.push(`  ${summary.join('   ')}`);
    if (s.error) lines.push(`  state unreadable: ${s.error}`);
    if (s.hours.length > 0) {
      const header = ['hour (UTC)   ', ...COLUMNS.map(([, title]) => title.padStart(10)), '  flags'].join('');
      lines.push(`  ${header}`);
      for (const h of s.hours) {
        const cells = COLUMNS.map(([key]) => String(h[key]).padStart(10)).join('');
        lines.push(`  ${`${h.hour}Z`.padEnd(13)}${cells}  ${h.flags.join(', ')}`.trimEnd());
      }
    } else {
      lines.push('  no completeness counts yet');
    }
    for (const l of s.losses) lines.push(`  LOSS ${l.kind} ${l.from}..${l.to}: ${l.detail} (noted ${l.at})`);
  }
  lines.push(
    '',
    report.problems === 0
      ? 'no gaps, losses, set-aside or at-risk data'
      : `${report.problems} problem(s): see GAP / LOST / SET ASIDE / AT RISK / LOSS${report.replicas ? ' / EXPIRED / CONFIGURATION PROBLEM' : ''} above`,
  );
  return `${lines.join('\n')}\n`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
export type { LeaseTable, ReplicaReport, StreamLease } from '../core/coordinator.ts';
