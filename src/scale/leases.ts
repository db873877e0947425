import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { PostgresStateStore } from '../state/postgres-store.ts';
import type { Coordinator, LeaseEvents, LeaseTable, StreamClaim } from '../core/coordinator.ts';
import type { Logger } from '../core/log.ts';
import type { Fence } from '../core/state-store.ts';

export interface LeaseSettings {
  /** A lease not renewed for this long may be taken over by another replica. */
  ttlMs: number;
  /** How often leases are renewed, the heartbeat written and the share rebalanced (well under ttlMs). */
  renewEveryMs: number;
  /** Tests: no timer, the caller runs `tick()`. */
  manual?: boolean;
}

/** Default replica id: host name, process id and a few random bytes (unique across restarts). */
export function defaultReplicaId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
}

interface Held {
  epoch: number;
  /** Being handed over: the loop is stopping; still renewed until it has stopped. */
  releasing: boolean;
}

/** Every stream's lease and every known replica, read from the store (for `auditrelay status`); times are the database's. */
export async function readLeases(store: PostgresStateStore): Promise<LeaseTable> {
  const leases = await store.pool.query<{ stream: string; owner: string; epoch: string; live: boolean; phase: string | null; renewed_ago: number; expires_in: number }>(
    `SELECT stream, owner, epoch, expires_at > clock_timestamp() AS live, phase,
            (extract(epoch FROM clock_timestamp() - coalesce(renewed_at, acquired_at)) * 1000)::float8 AS renewed_ago,
            (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8 AS expires_in
       FROM ${store.table('leases')} ORDER BY stream`,
  );
  const replicas = await store.pool.query<{ id: string; live: boolean; heartbeat_ago: number; held: number }>(
    `SELECT id, expires_at > clock_timestamp() AS live, (extract(epoch FROM clock_timestamp() - heartbeat_at) * 1000)::float8 AS heartbeat_ago, held
       FROM ${store.table('replicas')} ORDER BY id`,
  );
  return {
    leases: leases.rows.map((r) => ({
      stream: r.stream,
      owner: r.owner,
      epoch: Number(r.epoch),
      live: r.live,
      ...(r.phase !== null ? { phase: r.phase } : {}),
      renewedAgoMs: Math.round(r.renewed_ago),
      expiresInMs: Math.round(r.expires_in),
    })),
    replicas: replicas.rows.map((r) => ({ id: r.id, live: r.live, heartbeatAgoMs: Math.round(r.heartbeat_ago), held: r.held })),
  };
}

/**
 * Stream leases in PostgreSQL. Every `renewEveryMs`, one tick (never two at once):
 * 1. heartbeat: upsert this replica's row; count live replicas (rows not expired);
 * 2. renew every lease held, matching owner AND epoch; a lease that does not match was taken over
 *    while this replica was not renewing (paused, partitioned): its stream is stopped at once;
 * 3. fair share = ceil(streams / live replicas). Above it: hand over the excess (stop the loop so its
 *    last commit lands under the still-valid lease, then expire the lease). Below it: take free or
 *    expired leases, each with epoch + 1, until at the share.
 * All lease times are the database clock's. A replica that cannot renew for a whole TTL stops its
 * streams on its own clock too (another replica may hold them by now; fencing keeps it harmless
 * either way, this only avoids duplicate fetching).
 */
export class PostgresCoordinator implements Coordinator {
  readonly replicaId: string;
  readonly #store: PostgresStateStore;
  /** Its own connections: renewals never wait behind state writes or budget calls. */
  readonly #pool: pg.Pool;
  readonly #settings: LeaseSettings;
  readonly #log: Logger;
  readonly #held = new Map<string, Held>();
  #streams: string[] = [];
  #events: LeaseEvents | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;
  #lastRenewedAt = 0;
  #lastError = '';

  constructor(store: PostgresStateStore, settings: LeaseSettings, log: Logger, replicaId: string = defaultReplicaId()) {
    if (settings.renewEveryMs * 2 > settings.ttlMs) throw new Error('lease renewal must happen at least twice per lease TTL');
    this.#store = store;
    this.#pool = store.openPool(2);
    this.#settings = settings;
    this.#log = log.child({ replica: replicaId });
    this.replicaId = replicaId;
  }

  start(streamIds: readonly string[], events: LeaseEvents): void {
    this.#streams = [...streamIds].sort();
    this.#events = events;
    this.#log.info({ streams: this.#streams.length, leaseTtlMs: this.#settings.ttlMs }, 'sharing streams with other replicas through postgres leases');
    if (!this.#settings.manual) this.#schedule(0);
  }

  held(): string[] {
    return [...this.#held.keys()].sort();
  }

  lost(streamId: string, fence: Fence | undefined): void {
    const held = this.#held.get(streamId);
    // A loop of an older lease, still finishing when the stream was leased here again, must not
    // make the coordinator forget the new lease (it would stop renewing a stream that runs).
    if (!held || (fence !== undefined && held.epoch !== fence.epoch)) return;
    this.#held.delete(streamId);
    this.#log.warn({ stream: streamId, epoch: held.epoch }, 'lease lost: another replica holds this stream now');
  }

  /** One tick now (tests drive ticks directly; the timer calls this too). */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#ticking?.catch(() => undefined);
    const leases = [...this.#held.entries()];
    await Promise.allSettled(leases.map(([id]) => this.#events?.stop(id)));
    this.#held.clear();
    try {
      if (leases.length > 0) await this.#expire(leases.map(([id, h]) => [id, h.epoch]));
      await this.#pool.query(`DELETE FROM ${this.#store.table('replicas')} WHERE id = $1`, [this.replicaId]);
      this.#log.info({ released: leases.length }, 'leases handed back');
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'could not hand leases back; other replicas take them over when they expire');
    }
    await this.#pool.end().catch(() => undefined);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    const due = Date.now() + ms;
    this.#timer = setTimeout(() => {
      const late = Date.now() - due;
      if (late > this.#settings.renewEveryMs) {
        this.#log.warn({ lateMs: late, leaseTtlMs: this.#settings.ttlMs }, 'lease renewal ran late (event loop busy or process paused): leases may have expired');
      }
      void this.tick().finally(() => this.#schedule(this.#settings.renewEveryMs));
    }, ms);
  }

  async #tick(): Promise<void> {
    if (this.#stopped || !this.#events) return;
    const sentAt = Date.now();
    try {
      const replicas = await this.#heartbeat();
      await this.#renew();
      this.#lastRenewedAt = sentAt;
      this.#lastError = '';
      if (this.#stopped) return;
      const share = Math.ceil(this.#streams.length / replicas);
      const active = [...this.#held.values()].filter((h) => !h.releasing).length;
      if (active > share) this.#handOver(active - share);
      else if (active < share && this.#held.size < share) await this.#acquire(share - this.#held.size);
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.#lastError) this.#log.warn({ err: message }, 'could not renew leases; retrying');
      this.#lastError = message;
      // Beyond the TTL since the last renewal that reached the database, assume the leases are gone.
      if (this.#held.size > 0 && Date.now() - this.#lastRenewedAt >= this.#settings.ttlMs) {
        this.#log.error({ streams: this.#held.size }, 'leases not renewed for a whole TTL: stopping every stream here');
        for (const id of [...this.#held.keys()]) this.#drop(id);
      }
    }
  }

  /** Upserts this replica's heartbeat; returns the number of live replicas, this one included. */
  async #heartbeat(): Promise<number> {
    const replicas = this.#store.table('replicas');
    const { rows } = await this.#pool.query<{ others: string }>(
      `WITH me AS (
         INSERT INTO ${replicas} (id, started_at, heartbeat_at, expires_at, held)
         VALUES ($1, clock_timestamp(), clock_timestamp(), clock_timestamp() + $2 * interval '1 millisecond', $3)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at, held = excluded.held
         RETURNING id
       ), gone AS (
         DELETE FROM ${replicas} WHERE expires_at < clock_timestamp() - 10 * $2 * interval '1 millisecond' AND id <> $1
       )
       SELECT count(*) AS others FROM ${replicas} WHERE expires_at > clock_timestamp() AND id <> $1`,
      [this.replicaId, this.#settings.ttlMs, this.#held.size],
    );
    return Number(rows[0]?.others ?? 0) + 1;
  }

  async #renew(): Promise<void> {
    await this.#handBackOrphans();
    if (this.#held.size === 0) return;
    const entries = [...this.#held.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    const phases = entries.map(([id, h]) => (h.releasing ? 'stopping' : (this.#events?.phase(id) ?? 'starting')));
    const { rows } = await this.#pool.query<{ stream: string }>(
      `UPDATE ${this.#store.table('leases')} l
          SET expires_at = clock_timestamp() + $4 * interval '1 millisecond', renewed_at = clock_timestamp(), phase = h.phase
         FROM unnest($2::text[], $3::bigint[], $5::text[]) AS h (stream, epoch, phase)
        WHERE l.stream = h.stream AND l.epoch = h.epoch AND l.owner = $1
       RETURNING l.stream`,
      [this.replicaId, entries.map(([id]) => id), entries.map(([, h]) => h.epoch), this.#settings.ttlMs, phases],
    );
    const renewed = new Set(rows.map((r) => r.stream));
    for (const [id, held] of entries) {
      if (renewed.has(id) || this.#held.get(id) !== held) continue;
      this.#log.warn({ stream: id, epoch: held.epoch }, 'lease lost: taken over by another replica while this one was not renewing; stopping the stream here');
      this.#drop(id);
    }
  }

  /**
   * Leases this replica holds for streams no loop runs here any more (a loop that ended without
   * the coordinator being told): handed back rather than renewed, loudly, so another replica (or
   * this one, at its next share) starts the stream instead of it standing still under a live lease.
   */
  async #handBackOrphans(): Promise<void> {
    const orphans = [...this.#held.entries()].filter(([id, h]) => !h.releasing && this.#events?.phase(id) === undefined);
    if (orphans.length === 0) return;
    for (const [id, held] of orphans) {
      this.#log.error({ stream: id, epoch: held.epoch }, 'lease held for a stream that no longer runs here (a bug): handing the lease back');
      this.#held.delete(id);
    }
    await this.#expire(orphans.map(([id, h]) => [id, h.epoch]));
  }

  /** Free (never leased, expired or handed back) streams, taken with epoch + 1. */
  async #acquire(wanted: number): Promise<void> {
    const leases = this.#store.table('leases');
    const free = await this.#pool.query<{ stream: string }>(
      `SELECT s.stream FROM unnest($1::text[]) AS s (stream)
         LEFT JOIN ${leases} l ON l.stream = s.stream
        WHERE l.stream IS NULL OR l.expires_at < clock_timestamp()`,
      [this.#streams.filter((id) => !this.#held.has(id))],
    );
    if (free.rows.length === 0) return;
    // Spread replicas over different candidates; lock rows in one order (sorted) to avoid deadlocks.
    const pick = shuffle(free.rows.map((r) => r.stream)).slice(0, wanted).sort();
    const { rows } = await this.#pool.query<{ stream: string; epoch: string }>(
      `INSERT INTO ${leases} AS l (stream, owner, epoch, expires_at, acquired_at, renewed_at, phase)
       SELECT s.stream, $1, 1, clock_timestamp() + $3 * interval '1 millisecond', clock_timestamp(), clock_timestamp(), 'starting'
         FROM unnest($2::text[]) AS s (stream) ORDER BY s.stream
       ON CONFLICT (stream) DO UPDATE
         SET owner = excluded.owner, epoch = l.epoch + 1, expires_at = excluded.expires_at, acquired_at = excluded.acquired_at,
             renewed_at = excluded.renewed_at, phase = excluded.phase
       WHERE l.expires_at < clock_timestamp()
       RETURNING l.stream, l.epoch`,
      [this.replicaId, pick, this.#settings.ttlMs],
    );
    for (const row of rows) {
      const epoch = Number(row.epoch);
      if (this.#stopped) {
        await this.#expire([[row.stream, epoch]]);
        continue;
      }
      this.#held.set(row.stream, { epoch, releasing: false });
      this.#log.info({ stream: row.stream, epoch }, 'lease acquired: running the stream here');
      this.#events?.acquired(row.stream, { owner: this.replicaId, epoch });
    }
  }

  /** Hands `count` streams over: stop each loop (final commit still fenced by our lease), then expire. */
  #handOver(count: number): void {
    const candidates = [...this.#held.entries()].filter(([, h]) => !h.releasing).slice(-count);
    for (const [id, held] of candidates) {
      held.releasing = true;
      this.#log.info({ stream: id, epoch: held.epoch }, 'handing the stream to another replica (rebalancing)');
      void (this.#events?.stop(id) ?? Promise.resolve())
        .then(async () => {
          if (this.#held.get(id) !== held) return;
          await this.#expire([[id, held.epoch]]);
          this.#held.delete(id);
        })
        .catch((err: unknown) => {
          this.#log.warn({ stream: id, err: (err as Error).message }, 'could not hand the lease back; it expires on its own');
          if (this.#held.get(id) === held) this.#held.delete(id);
        });
    }
  }

  /** Ends leases at once (only if still ours at that epoch). */
  async #expire(leases: [string, number][]): Promise<void> {
    await this.#pool.query(
      `UPDATE ${this.#store.table('leases')} l SET expires_at = clock_timestamp() - interval '1 millisecond', phase = 'handed back'
         FROM unnest($2::text[], $3::bigint[]) AS h (stream, epoch)
        WHERE l.stream = h.stream AND l.epoch = h.epoch AND l.owner = $1`,
      [this.replicaId, leases.map(([id]) => id), leases.map(([, e]) => e)],
    );
  }

  /** Takes the stream's lease if it is free or expired (epoch + 1, as `#acquire` does); never one a live replica holds. */
  async claim(streamId: string): Promise<StreamClaim | undefined> {
    const { rows } = await this.#pool.query<{ epoch: string }>(
      `INSERT INTO ${this.#store.table('leases')} AS l (stream, owner, epoch, expires_at, acquired_at)
       VALUES ($1, $2, 1, clock_timestamp() + $3 * interval '1 millisecond', clock_timestamp())
       ON CONFLICT (stream) DO UPDATE
         SET owner = excluded.owner, epoch = l.epoch + 1, expires_at = excluded.expires_at, acquired_at = excluded.acquired_at
       WHERE l.expires_at < clock_timestamp()
       RETURNING l.epoch`,
      [streamId, this.replicaId, this.#settings.ttlMs],
    );
    const row = rows[0];
    if (!row) return undefined;
    const epoch = Number(row.epoch);
    return { fence: { owner: this.replicaId, epoch }, release: () => this.#expire([[streamId, epoch]]) };
  }

  #drop(id: string): void {
    this.#held.delete(id);
    void this.#events?.stop(id).catch(() => undefined);
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
