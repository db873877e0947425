import { backoffDelay } from '../../core/backoff.ts';
import { RETRY_DEFAULTS } from '../../core/retry-defaults.ts';
import type { Window } from './windows.ts';

/**
 * The stream's durable state: how far listing has got, and a ledger of content blobs by contentId.
 * A blob is `pending` from the moment it is listed until its records were acknowledged by the OTLP
 * endpoint; only then does it move to `done`. `done` is kept as long as a re-list could return the
 * blob again, so each blob is exported once. All functions are pure: state in, new state out.
 */
export interface BlobEntry {
  id: string;
  uri: string;
  created: number;
  expires: number;
  attempts: number;
  /** Not before this time (after a failure). */
  retryAt?: number;
  lastError?: string;
  /** Failed `maxBlobAttempts` times: reported, and retried only hourly until it expires. */
  setAside?: boolean;
}

export interface LossEntry {
  kind: 'not-listed' | 'expired' | 'gone';
  from: number;
  to: number;
  detail: string;
  at: number;
}

export interface O365StreamState {
  v: 1;
  /** Every blob with contentCreated < listedUntil has been listed and entered in the ledger. */
  listedUntil?: number;
  pending: BlobEntry[];
  /** contentId -> contentCreated of blobs whose records were delivered. */
  done: Record<string, number>;
  /** Last call of subscriptions/start for this content type (the API allows one per ~15 minutes). */
  lastStartAttempt?: number;
  /** Data we know was lost (outage longer than the 7-day retention, expired blobs), newest last. */
  losses: LossEntry[];
}

export interface ListedBlob {
  contentId: string;
  contentUri: string;
  contentCreated: string;
  contentExpiration: string;
}

const MAX_LOSSES_KEPT = 100;

export function emptyState(): O365StreamState {
  return { v: 1, pending: [], done: {}, losses: [] };
}

/** Validates a loaded document; anything unexpected is an error, never a silent reset. */
export function restoreState(doc: unknown): O365StreamState {
  if (doc === undefined) return emptyState();
  const s = doc as Partial<O365StreamState>;
  if (s?.v !== 1 || !Array.isArray(s.pending) || typeof s.done !== 'object' || s.done === null) {
    throw new Error('the stored Office 365 stream state has an unknown shape (written by another version?)');
  }
  return { v: 1, listedUntil: s.listedUntil, pending: s.pending, done: s.done, lastStartAttempt: s.lastStartAttempt, losses: s.losses ?? [] };
}

/** Adds newly listed blobs (skipping ones already pending or done) and advances `listedUntil` to the window's end. */
export function mergeListing(state: O365StreamState, items: ListedBlob[], window: Window): { state: O365StreamState; added: number } {
  const known = new Set(state.pending.map((b) => b.id));
  const pending = [...state.pending];
  let added = 0;
  for (const item of items) {
    if (known.has(item.contentId) || state.done[item.contentId] !== undefined) continue;
    known.add(item.contentId);
    pending.push({
      id: item.contentId,
      uri: item.contentUri,
      created: parseApiDate(item.contentCreated),
      expires: parseApiDate(item.contentExpiration),
      attempts: 0,
    });
    added++;
  }
  const listedUntil = Math.max(state.listedUntil ?? window.end, window.end);
  return { state: { ...state, pending, listedUntil }, added };
}

/** Blobs to fetch now: due ones first by expiry (the API deletes them 7 days after creation). */
export function dueBlobs(state: O365StreamState, now: number): BlobEntry[] {
  return state.pending.filter((b) => (b.retryAt ?? 0) <= now).sort((a, b) => a.expires - b.expires || a.created - b.created);
}

export function markDelivered(state: O365StreamState, id: string): O365StreamState {
  const entry = state.pending.find((b) => b.id === id);
  if (!entry) return state;
  return { ...state, pending: state.pending.filter((b) => b.id !== id), done: { ...state.done, [id]: entry.created } };
}

/** A failed fetch: retry later with backoff; after `maxAttempts` set it aside (reported, retried hourly). */
export function markFailed(state: O365StreamState, id: string, error: string, now: number, maxAttempts: number, random = Math.random): O365StreamState {
  return {
    ...state,
    pending: state.pending.map((b) => {
      if (b.id !== id) return b;
      const attempts = b.attempts + 1;
      const setAside = attempts >= maxAttempts;
      const retryAt = now + (setAside ? RETRY_DEFAULTS.setAsideRetryMs : backoffDelay(RETRY_DEFAULTS.itemRetry, attempts - 1, random));
      return { ...b, attempts, lastError: error.slice(0, 300), retryAt, setAside };
    }),
  };
}

/** The blob can never be fetched (expired, gone): drop it from pending and record the loss. */
export function markLost(state: O365StreamState, id: string, kind: LossEntry['kind'], detail: string, now: number): O365StreamState {
  const entry = state.pending.find((b) => b.id === id);
  if (!entry) return state;
  return recordLoss({ ...state, pending: state.pending.filter((b) => b.id !== id) }, { kind, from: entry.created, to: entry.created, detail, at: now });
}

export function recordLoss(state: O365StreamState, loss: LossEntry): O365StreamState {
  return { ...state, losses: [...state.losses, loss].slice(-MAX_LOSSES_KEPT) };
}

/**
 * Forgets `done` entries no re-list can return any more: listings start at listedUntil - overlap,
 * and blobs are listed by contentCreated, so older ones cannot come back.
 */
export function pruneDone(state: O365StreamState, relistOverlapMs: number): O365StreamState {
  if (state.listedUntil === undefined) return state;
  const horizon = state.listedUntil - relistOverlapMs - 60_000;
  let removed = false;
  const done: Record<string, number> = {};
  for (const [id, created] of Object.entries(state.done)) {
    if (created >= horizon) done[id] = created;
    else removed = true;
  }
  return removed ? { ...state, done } : state;
}

/** The oldest point not yet fully delivered: the stream's true cursor (for lag and status). */
export function committedWatermark(state: O365StreamState): number | undefined {
  let min = state.listedUntil;
  for (const b of state.pending) if (min === undefined || b.created < min) min = b.created;
  return min;
}

/** contentCreated/contentExpiration come without a zone ("2026-11-22T05:00:00.000Z" or without Z): UTC. */
export function parseApiDate(text: string): number {
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
  if (Number.isNaN(t)) throw new Error(`unreadable date "${text}" in a content listing`);
  return t;
}
