import { Random } from '../../o365/emulator/random.ts';
import { lagProfileOf } from '../config.ts';
import { googleEventUid } from '../mapping/index.ts';

/**
 * The emulated customer's activities. Each has its event time and the moment the Reports API starts
 * returning it (`visibleAt`): time + a lag drawn per application from the lags seen in the field
 * (docs/api-notes.md#google-lag), multiplied by `lagScale` so hours can take seconds. Activities therefore become
 * visible late and out of order relative to their own time, as Google's do.
 */

const M = 60_000;
const H = 60 * M;

/** [share, lowest lag, highest lag] per lag profile, before scaling. */
const LAG_MIX: Record<string, [number, number, number][]> = {
  minutes: [
    [0.7, 0, M],
    [0.25, M, 10 * M],
    [0.05, 10 * M, 2 * H],
  ],
  tensOfMinutes: [
    [0.6, 5 * M, 30 * M],
    [0.35, 30 * M, 3 * H],
    [0.05, 3 * H, 12 * H],
  ],
  hours: [
    [0.2, M, 30 * M],
    [0.6, 30 * M, 4 * H],
    [0.18, 4 * H, 12 * H],
    [0.02, 12 * H, 48 * H],
  ],
};

const EVENTS: Record<string, { type: string; names: string[] }> = {
  admin: { type: 'USER_SETTINGS', names: ['CHANGE_PASSWORD', 'CREATE_USER', 'GRANT_ADMIN_PRIVILEGE', 'SUSPEND_USER'] },
  login: { type: 'login', names: ['login_success', 'login_failure', 'logout', 'login_verification'] },
  drive: { type: 'access', names: ['view', 'edit', 'download', 'change_user_access'] },
  token: { type: 'auth', names: ['authorize', 'revoke', 'activity'] },
  calendar: { type: 'event_change', names: ['create_event', 'change_event_title', 'delete_event'] },
};
const DEFAULT_EVENTS = { type: 'activity', names: ['action_performed', 'setting_changed'] };

/** Fixed once generated: the store's time index and kept query results rely on it. */
export interface EmulatedActivity {
  readonly time: number;
  readonly visibleAt: number;
  readonly application: string;
  readonly actorEmail: string;
  readonly ipAddress: string;
  /** The activity as the API returns it: a new object parsed from `json` on each read. */
  readonly body: Record<string, unknown>;
  /** `JSON.stringify(body)`, what pages are made of. */
  readonly json: string;
  /** The `log.record.uid`s of its events, as the mapping computes them. */
  readonly uids: readonly string[];
  readonly eventNames: readonly string[];
}

/**
 * An activity as the store keeps it: the body as JSON text, one string for the garbage collector
 * instead of a tree of some twenty objects. A million activities as trees made a 1 GB heap that every
 * full collection of the benchmark process had to mark (about 1.5 s each, every few seconds).
 */
class StoredActivity implements EmulatedActivity {
  readonly time: number;
  readonly visibleAt: number;
  readonly application: string;
  readonly actorEmail: string;
  readonly ipAddress: string;
  readonly json: string;
  readonly uids: readonly string[];
  readonly eventNames: readonly string[];

  constructor(fields: Omit<EmulatedActivity, 'body'>) {
    this.time = fields.time;
    this.visibleAt = fields.visibleAt;
    this.application = fields.application;
    this.actorEmail = fields.actorEmail;
    this.ipAddress = fields.ipAddress;
    this.json = fields.json;
    this.uids = fields.uids;
    this.eventNames = fields.eventNames;
  }

  get body(): Record<string, unknown> {
    return JSON.parse(this.json) as Record<string, unknown>;
  }
}

export interface ActivityQuery {
  application: string;
  userKey: string;
  startMs?: number;
  endMs?: number;
  eventName?: string;
  actorIpAddress?: string;
  /** Only activities visible at this moment. */
  visibleAt: number;
}

/** The API's order: newest first; equal times by the first event's uid; then in order of generation. */
function apiOrder(x: EmulatedActivity, y: EmulatedActivity): number {
  return y.time - x.time || (x.uids[0] as string).localeCompare(y.uids[0] as string);
}

/** One application's activities in apiOrder; those generated since the last query wait in `pending`. */
interface OrderedActivities {
  sorted: EmulatedActivity[];
  pending: EmulatedActivity[];
}

/** Pending activities up to this many are inserted one by one (binary search); more: one sort. */
const INSERT_LIMIT = 64;
/** Query results kept for the pages after the first (a page set asks the same query each page). */
const CACHED_QUERIES = 16;

export class ActivityStore {
  readonly #ordered = new Map<string, OrderedActivities>();
  /** Results by query, valid while no activity has been generated since (`#count` unchanged). */
  readonly #results = new Map<string, { count: number; result: EmulatedActivity[] }>();
  readonly #customerId: string;
  readonly #domain: string;
  readonly #seed: number;
  readonly #lagScale: number;
  #count = 0;

  constructor(options: { customerId: string; domain: string; seed: number; lagScale: number }) {
    this.#customerId = options.customerId;
    this.#domain = options.domain;
    this.#seed = options.seed;
    this.#lagScale = options.lagScale;
  }

  /** A generated activity of `application` at `time`, visible after a lag drawn from its profile (or the given one). */
  generate(application: string, time: number, lagMs?: number): EmulatedActivity {
    const n = this.#count++;
    const random = new Random(`${this.#seed}:google:${application}:${n}`);
    const lag = lagMs ?? Math.round(drawLag(random, application) * this.#lagScale);
    const kind = EVENTS[application] ?? DEFAULT_EVENTS;
    const eventCount = random.chance(0.2) ? 2 : 1;
    const events = Array.from({ length: eventCount }, () => ({
      type: kind.type,
      name: random.pick(kind.names),
      parameters: [
        { name: 'target_user', value: `user${random.int(1, 40)}@${this.#domain}` },
        { name: 'count', intValue: String(random.int(1, 5_000_000_000)) },
        { name: 'is_suspicious', boolValue: random.chance(0.05) },
      ],
    }));
    const actorEmail = `user${random.int(1, 40)}@${this.#domain}`;
    const iso = new Date(time).toISOString();
    // int64 as a decimal string, sometimes negative (as Google's are)
    const uniqueQualifier = `${random.chance(0.5) ? '-' : ''}${random.int(1, 2 ** 31)}${random.int(100000, 999999)}`;
    const id = { time: iso, uniqueQualifier, applicationName: application, customerId: this.#customerId };
    const body: Record<string, unknown> = {
      kind: 'admin#reports#activity',
      id,
      etag: `"${random.uint32().toString(36)}"`,
      actor: { callerType: 'USER', email: actorEmail, profileId: String(100000000000000000000 + random.int(1, 1e9)) },
      ipAddress: `203.0.113.${random.int(1, 254)}`,
      ownerDomain: this.#domain,
      events,
    };
    const activity = new StoredActivity({
      time,
      visibleAt: time + lag,
      application,
      actorEmail,
      ipAddress: body['ipAddress'] as string,
      json: JSON.stringify(body),
      uids: events.map((e, index) => googleEventUid(id, index, e.name)),
      eventNames: events.map((e) => e.name),
    });
    let ordered = this.#ordered.get(application);
    if (!ordered) {
      ordered = { sorted: [], pending: [] };
      this.#ordered.set(application, ordered);
    }
    ordered.pending.push(activity);
    return activity;
  }

  /**
   * Matching visible activities, newest first (the API's order). Each application's activities are
   * kept in that order, so the time range is found by binary search and only it is filtered; the
   * result is kept until the next activity is generated, so the pages after a query's first cost
   * only their own slice. The returned array is shared: do not modify it.
   */
  query(q: ActivityQuery): EmulatedActivity[] {
    const key = JSON.stringify([q.application, q.userKey, q.startMs ?? null, q.endMs ?? null, q.eventName ?? null, q.actorIpAddress ?? null, q.visibleAt]);
    const cached = this.#results.get(key);
    if (cached && cached.count === this.#count) return cached.result;
    const list = this.#sorted(q.application);
    // Newest first: [lo, hi) holds startMs <= time < endMs.
    const lo = q.endMs === undefined ? 0 : firstOlder(list, q.endMs);
    const hi = q.startMs === undefined ? list.length : firstOlder(list, q.startMs);
    const out: EmulatedActivity[] = [];
    for (let i = lo; i < hi; i++) {
      const a = list[i] as EmulatedActivity;
      if (
        a.visibleAt <= q.visibleAt &&
        (q.userKey === 'all' || q.userKey === a.actorEmail) &&
        (q.eventName === undefined || a.eventNames.includes(q.eventName)) &&
        (q.actorIpAddress === undefined || a.ipAddress === q.actorIpAddress)
      ) {
        out.push(a);
      }
    }
    this.#results.delete(key);
    this.#results.set(key, { count: this.#count, result: out });
    if (this.#results.size > CACHED_QUERIES) this.#results.delete(this.#results.keys().next().value as string);
    return out;
  }

  /** An application's activities in apiOrder, with those generated since the last call merged in (stably). */
  #sorted(application: string): EmulatedActivity[] {
    const ordered = this.#ordered.get(application);
    if (!ordered) return [];
    const { sorted, pending } = ordered;
    if (pending.length > INSERT_LIMIT) {
      for (const a of pending) sorted.push(a);
      sorted.sort(apiOrder);
    } else {
      // After every equal one already there: generation order breaks ties, as a stable sort does.
      for (const a of pending) {
        let lo = 0;
        let hi = sorted.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (apiOrder(sorted[mid] as EmulatedActivity, a) <= 0) lo = mid + 1;
          else hi = mid;
        }
        sorted.splice(lo, 0, a);
      }
    }
    pending.length = 0;
    return sorted;
  }

  /** Uids of every event visible at `now`: the truth. */
  *visibleUids(now: number): Iterable<string> {
    for (const { sorted, pending } of this.#ordered.values()) {
      for (const list of [sorted, pending]) for (const a of list) if (a.visibleAt <= now) yield* a.uids;
    }
  }

  get size(): number {
    return this.#count;
  }
}

/** The first index whose activity is older than `ms` (`list` newest first). */
function firstOlder(list: EmulatedActivity[], ms: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as EmulatedActivity).time >= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function drawLag(random: Random, application: string): number {
  const mix = LAG_MIX[lagProfileOf(application)] ?? [];
  let draw = random.next();
  for (const [share, low, high] of mix) {
    draw -= share;
    if (draw < 0) return low + random.next() * (high - low);
  }
  const last = mix.at(-1);
  return last ? last[2] : 0;
}
