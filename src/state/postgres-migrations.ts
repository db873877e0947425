import type { PoolClient } from 'pg';

/**
 * The PostgreSQL schema, as numbered migrations. The daemon applies the missing ones at start, in
 * one transaction under an advisory lock, so N replicas starting together migrate exactly once.
 * Append new migrations; never edit one that has shipped.
 *
 * Every table lives in one PostgreSQL schema (`state.schema`, default `auditrelay`), so several
 * deployments (or tests) can share a database without colliding.
 */
export interface Migration {
  version: number;
  description: string;
  /** SQL statements; `s` is the quoted schema name to prefix every object with. */
  sql(s: string): string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'stream state documents, stream leases, replica heartbeats',
    sql: (s) => [
      // One JSON document per stream (cursor, ledger, seen-set). `owner`/`epoch` record the lease
      // that wrote it; a write from an older epoch is refused (see PostgresStateStore.put).
      `CREATE TABLE ${s}.state (
        key        text PRIMARY KEY,
        value      jsonb NOT NULL,
        owner      text,
        epoch      bigint,
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`,
      // One row per stream ever leased. `epoch` only grows: each takeover adds one. Times are the
      // database's clock, so replicas' clocks never have to agree.
      `CREATE TABLE ${s}.leases (
        stream      text PRIMARY KEY,
        owner       text NOT NULL,
        epoch       bigint NOT NULL,
        expires_at  timestamptz NOT NULL,
        acquired_at timestamptz NOT NULL
      )`,
      // Replicas announce themselves here; the live ones (not expired) set each one's fair share.
      `CREATE TABLE ${s}.replicas (
        id           text PRIMARY KEY,
        started_at   timestamptz NOT NULL,
        heartbeat_at timestamptz NOT NULL,
        expires_at   timestamptz NOT NULL,
        held         integer NOT NULL DEFAULT 0
      )`,
    ],
  },
  {
    version: 2,
    description: 'request budgets shared by replicas',
    sql: (s) => [
      `CREATE TABLE ${s}.budgets (
        key        text PRIMARY KEY,
        "limit"    integer NOT NULL,
        hold_until timestamptz NOT NULL DEFAULT '-infinity'
      )`,
      // Tokens handed to replicas, kept while they count against the sliding window.
      `CREATE TABLE ${s}.budget_grants (
        key        text NOT NULL REFERENCES ${s}.budgets (key) ON DELETE CASCADE,
        granted_at timestamptz NOT NULL,
        tokens     integer NOT NULL CHECK (tokens > 0)
      )`,
      `CREATE INDEX budget_grants_key_time ON ${s}.budget_grants (key, granted_at)`,
      // Grants up to p_want tokens if the tokens granted in the last p_span_ms leave room (never
      // more than p_limit in any p_span_ms), else how long until room frees up or a hold ends.
      // The budget row's lock serialises replicas; the clock is the database's.
      `CREATE FUNCTION ${s}.take_tokens(p_key text, p_limit integer, p_want integer, p_span_ms integer)
        RETURNS TABLE (granted integer, retry_ms integer)
        LANGUAGE plpgsql AS $fn$
      DECLARE
        v_now    timestamptz;
        v_hold   timestamptz;
        v_used   integer;
        v_oldest timestamptz;
        v_grant  integer;
        v_span   interval := make_interval(secs => p_span_ms / 1000.0);
      BEGIN
        INSERT INTO ${s}.budgets AS b (key, "limit") VALUES (p_key, p_limit)
          ON CONFLICT (key) DO UPDATE SET "limit" = excluded."limit" WHERE b."limit" <> excluded."limit";
        SELECT b.hold_until INTO v_hold FROM ${s}.budgets b WHERE b.key = p_key FOR UPDATE;
        v_now := clock_timestamp();
        IF v_hold > v_now THEN
          RETURN QUERY SELECT 0, greatest(1, ceil(extract(epoch FROM v_hold - v_now) * 1000))::integer;
          RETURN;
        END IF;
        DELETE FROM ${s}.budget_grants g WHERE g.key = p_key AND g.granted_at <= v_now - v_span;
        SELECT coalesce(sum(g.tokens), 0), min(g.granted_at) INTO v_used, v_oldest
          FROM ${s}.budget_grants g WHERE g.key = p_key;
        v_grant := least(p_want, p_limit - v_used);
        IF v_grant > 0 THEN
          INSERT INTO ${s}.budget_grants (key, granted_at, tokens) VALUES (p_key, v_now, v_grant);
          RETURN QUERY SELECT v_grant, 0;
          RETURN;
        END IF;
        RETURN QUERY SELECT 0, greatest(1, ceil(extract(epoch FROM v_oldest + v_span - v_now) * 1000))::integer;
      END
      $fn$`,
    ],
  },
  {
    version: 3,
    description: 'what each lease holder reports about its stream (for auditrelay status)',
    sql: (s) => [
      // Written by the owner at every renewal: the phase of the stream's loop there ('running',
      // 'restarting', 'config-error', ...), and when. A lease whose stream no loop runs is handed
      // back instead of renewed, so a live lease always names a replica that runs the stream.
      `ALTER TABLE ${s}.leases ADD COLUMN phase text, ADD COLUMN renewed_at timestamptz`,
    ],
  },
];

export const LATEST_VERSION = MIGRATIONS.at(-1)!.version;

/** Double-quotes a PostgreSQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates the schema if needed and applies the migrations it lacks; returns the versions applied.
 * Refuses a database migrated by a newer auditrelay (its state may not be readable by this one).
 */
export async function migrate(client: PoolClient, schema: string): Promise<number[]> {
  const s = quoteIdent(schema);
  await client.query('BEGIN');
  try {
    // Serialises replicas that start together; released at COMMIT/ROLLBACK.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`auditrelay-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_version (
        version     integer PRIMARY KEY,
        description text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT clock_timestamp()
      )`,
    );
    const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.schema_version`);
    const current = rows[0]?.v ?? 0;
    if (current > LATEST_VERSION) {
      throw new Error(
        `the state schema "${schema}" is at version ${current}, newer than this auditrelay knows (${LATEST_VERSION}): upgrade auditrelay on every replica`,
      );
    }
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      for (const statement of migration.sql(s)) await client.query(statement);
      await client.query(`INSERT INTO ${s}.schema_version (version, description) VALUES ($1, $2)`, [migration.version, migration.description]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
