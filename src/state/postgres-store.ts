import pg from 'pg';
import type { Logger } from '../core/log.ts';
import { registerSecret } from '../secrets/redact.ts';
import { migrate, quoteIdent } from './postgres-migrations.ts';
import { type Fence, FencedError, type StateStore } from '../core/state-store.ts';

export interface PostgresStoreOptions {
  /**
   * `postgres://user:password@host:port/database?sslmode=...`. Whatever it leaves out comes from the
   * standard PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, ...), as with psql;
   * undefined means PG* only.
   */
  url?: string;
  /** PostgreSQL schema holding every table (created if missing). */
  schema: string;
  /** Connections in the pool. */
  poolSize?: number;
  /** Idle-connection errors (a restarted server) are reported here instead of crashing. */
  log?: Logger;
}

/** Schema names: lower-case identifiers, so they never need care in psql. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Stream state in PostgreSQL, for replicas sharing work. Same contract as the file store, plus
 * fencing: a `put` with a fence writes only while the stream's lease row still names that owner and
 * epoch, checked and written in one statement. The schema is created and migrated on open.
 */
export class PostgresStateStore implements StateStore {
  readonly kind = 'postgres';
  readonly location: string;
  readonly schema: string;
  /** Shared with the lease coordinator and the shared budgets (one pool per process). */
  readonly pool: pg.Pool;
  readonly #s: string;
  readonly #poolConfig: pg.PoolConfig;
  readonly #log: Logger | undefined;

  private constructor(pool: pg.Pool, poolConfig: pg.PoolConfig, schema: string, location: string, log: Logger | undefined) {
    this.pool = pool;
    this.#poolConfig = poolConfig;
    this.#log = log;
    this.schema = schema;
    this.#s = quoteIdent(schema);
    this.location = location;
  }

  /** Connects, creates the schema if needed and applies missing migrations. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStateStore> {
    if (!SCHEMA_NAME.test(options.schema)) throw new Error(`state.schema "${options.schema}" must be a lower-case identifier (a-z, 0-9, _)`);
    registerConnectionSecrets(options.url);
    const poolConfig: pg.PoolConfig = {
      ...(options.url !== undefined ? { connectionString: options.url } : {}),
      max: options.poolSize ?? 10,
      application_name: 'auditrelay',
      connectionTimeoutMillis: 10_000,
    };
    const pool = newPool(poolConfig, options.log);
    const location = describeConnection(options.url, options.schema);
    let client: pg.PoolClient | undefined;
    try {
      client = await pool.connect();
      const applied = await migrate(client, options.schema);
      if (applied.length > 0) options.log?.info({ schema: options.schema, applied }, 'state schema migrated');
    } catch (err) {
      client?.release();
      client = undefined;
      await pool.end().catch(() => undefined);
      throw new Error(`cannot open the postgres state store at ${location}: ${(err as Error).message}`, { cause: err });
    }
    client.release();
    return new PostgresStateStore(pool, poolConfig, options.schema, location, options.log);
  }

  /** A separate pool to the same database (lease renewals must never queue behind state writes). */
  openPool(max: number): pg.Pool {
    return newPool({ ...this.#poolConfig, max }, this.#log);
  }

  /** `schema.table`, quoted, for the coordinator and budgets that share this store's tables. */
  table(name: string): string {
    return `${this.#s}.${quoteIdent(name)}`;
  }

  async get(key: string): Promise<unknown> {
    const { rows } = await this.pool.query<{ value: unknown }>(`SELECT value FROM ${this.#s}.state WHERE key = $1`, [key]);
    return rows[0]?.value;
  }

  /**
   * One statement. With a fence, the lease row is read FOR SHARE, so a takeover in progress either
   * waits for this write (and the new owner then loads it) or commits first (and this write finds no
   * row and is refused). The epoch check on the document itself keeps a write from an older epoch
   * from replacing one written under a newer lease even if the lease table were reset.
   */
  async put(key: string, value: unknown, fence?: Fence): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`state for ${key} is not JSON-serialisable`);
    if (!fence) {
      await this.pool.query(
        `INSERT INTO ${this.#s}.state AS st (key, value, updated_at) VALUES ($1, $2::jsonb, clock_timestamp())
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [key, json],
      );
      return;
    }
    const stream = fence.stream ?? key;
    const { rowCount } = await this.pool.query(
      `INSERT INTO ${this.#s}.state AS st (key, value, owner, epoch, updated_at)
       SELECT $1, $2::jsonb, l.owner, l.epoch, clock_timestamp()
         FROM ${this.#s}.leases l
        WHERE l.stream = $5 AND l.owner = $3 AND l.epoch = $4
          FOR SHARE OF l
       ON CONFLICT (key) DO UPDATE
         SET value = excluded.value, owner = excluded.owner, epoch = excluded.epoch, updated_at = excluded.updated_at
       WHERE st.epoch IS NULL OR st.epoch <= excluded.epoch`,
      [key, json, fence.owner, fence.epoch, stream],
    );
    if (rowCount === 1) return;
    const { rows } = await this.pool.query<{ owner: string; epoch: string }>(`SELECT owner, epoch FROM ${this.#s}.leases WHERE stream = $1`, [stream]);
    const holder = rows[0] ? `${rows[0].owner} at epoch ${rows[0].epoch}` : 'nobody';
    const whose = stream === key ? 'its lease' : `the lease of ${stream}`;
    throw new FencedError(`state for ${key} not written: replica ${fence.owner} (epoch ${fence.epoch}) no longer holds ${whose} (now ${holder})`);
  }

  async keys(prefix: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ key: string }>(
      `SELECT key FROM ${this.#s}.state WHERE starts_with(key, $1) ORDER BY key COLLATE "C"`,
      [prefix],
    );
    return rows.map((r) => r.key);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function newPool(config: pg.PoolConfig, log: Logger | undefined): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', (err) => log?.warn({ err: err.message }, 'postgres connection dropped; the pool reconnects'));
  return pool;
}

function registerConnectionSecrets(url: string | undefined): void {
  registerSecret(process.env['PGPASSWORD']);
  if (!url) return;
  try {
    registerSecret(decodeURIComponent(new URL(url).password));
  } catch {
    // Not a URL (a key=value string): pg parses it; a password inside stays unknown to the
    // redactor, but this store never prints the string itself.
  }
}

/** Where the store is, for messages: never the password. */
export function describeConnection(url: string | undefined, schema: string): string {
  const env = process.env;
  if (!url) {
    const host = env['PGHOST'] ?? 'localhost';
    return `postgres://${env['PGUSER'] ?? '(PGUSER)'}@${host}:${env['PGPORT'] ?? '5432'}/${env['PGDATABASE'] ?? '(PGDATABASE)'} schema ${schema} (from PG* variables)`;
  }
  try {
    const u = new URL(url);
    u.password = '';
    u.search = '';
    return `${u.toString()} schema ${schema}`;
  } catch {
    return `postgres (connection string not shown) schema ${schema}`;
  }
}
