import { Random } from '../../o365/emulator/random.ts';
import { lagProfileOf } from '../config.ts';
import { googleEventUid } from '../mapping/index.ts';

/**
 * The emulated customer's activities. Each has its event time and the moment the Reports API starts
 * returning it (`visibleAt`): time + a lag drawn per application from the lags seen in the field
 * (api-facts.md), multiplied by `lagScale` so hours can take seconds. Activities therefore become
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

export interface EmulatedActivity {
  time: number;
  visibleAt: number;
  application: string;
  actorEmail: string;
  body: Record<string, unknown>;
  /** The `log.record.uid`s of its events, as the mapping computes them. */
  uids: string[];
  eventNames: string[];
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

export class ActivityStore {
  readonly #byApp = new Map<string, EmulatedActivity[]>();
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
    const activity: EmulatedActivity = {
      time,
      visibleAt: time + lag,
      application,
      actorEmail,
      body,
      uids: events.map((e, index) => googleEventUid(id, index, e.name)),
      eventNames: events.map((e) => e.name),
    };
    let list = this.#byApp.get(application);
    if (!list) {
      list = [];
      this.#byApp.set(application, list);
    }
    list.push(activity);
    return activity;
  }

  /** Matching visible activities, newest first (the API's order). */
  query(q: ActivityQuery): EmulatedActivity[] {
    const list = this.#byApp.get(q.application) ?? [];
    const out = list.filter(
      (a) =>
        a.visibleAt <= q.visibleAt &&
        (q.startMs === undefined || a.time >= q.startMs) &&
        (q.endMs === undefined || a.time < q.endMs) &&
        (q.userKey === 'all' || q.userKey === a.actorEmail) &&
        (q.eventName === undefined || a.eventNames.includes(q.eventName)) &&
        (q.actorIpAddress === undefined || a.body['ipAddress'] === q.actorIpAddress),
    );
    return out.sort((x, y) => y.time - x.time || (x.uids[0] as string).localeCompare(y.uids[0] as string));
  }

  /** Uids of every event visible at `now`: the truth. */
  *visibleUids(now: number): Iterable<string> {
    for (const list of this.#byApp.values()) for (const a of list) if (a.visibleAt <= now) yield* a.uids;
  }

  get size(): number {
    return this.#count;
  }
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
