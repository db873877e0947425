import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS, quoteIdent } from '../../src/state/postgres-migrations.ts';
import { describeConnection, PostgresStateStore } from '../../src/state/postgres-store.ts';
import { FencedError } from '../../src/core/state-store.ts';
import { CompletenessRecorder, completenessKey, parseCompleteness } from '../../src/telemetry/completeness.ts';
import { silentLogger } from '../../src/telemetry/log.ts';
import { dropSchemas, PG_URL, pgQuery, uniqueSchema } from '../support/postgres.ts';

const schemas: string[] = [];
const stores: PostgresStateStore[] = [];

async function open(schema = uniqueSchema('store')): Promise<PostgresStateStore> {
  if (!schemas.includes(schema)) schemas.push(schema);
  const store = await PostgresStateStore.open({ url: PG_URL, schema });
  stores.push(store);
  return store;
}

afterAll(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  await dropSchemas(...schemas);
});

/** Writes a lease row the way the coordinator does (tests of the store alone). */
async function setLease(store: PostgresStateStore, stream: string, owner: string, epoch: number): Promise<void> {
  await store.pool.query(
    `INSERT INTO ${store.table('leases')} (stream, owner, epoch, expires_at, acquired_at)
     VALUES ($1, $2, $3, clock_timestamp() + interval '1 minute', clock_timestamp())
     ON CONFLICT (stream) DO UPDATE SET owner = excluded.owner, epoch = excluded.epoch`,
    [stream, owner, epoch],
  );
}

describe('postgres state store', () => {
  it('round-trips documents, replaces them, and lists keys by prefix', async () => {
    const store = await open();
    expect(await store.get('o365/t1/Audit.Exchange')).toBeUndefined();
    const doc = { listedUntil: 1_790_000_000_000, blobs: [{ id: 'b1', state: 'done' }], seen: ['a', 'b'], nested: { n: null, f: 1.5 } };
    await store.put('o365/t1/Audit.Exchange', doc);
    expect(await store.get('o365/t1/Audit.Exchange')).toEqual(doc);
    await store.put('o365/t1/Audit.Exchange', { listedUntil: 2 });
    expect(await store.get('o365/t1/Audit.Exchange')).toEqual({ listedUntil: 2 });
    await store.put('o365/t1/Audit.General', [1, 2, 3]);
    await store.put('google/c1/login', 'text');
    expect(await store.get('o365/t1/Audit.General')).toEqual([1, 2, 3]);
    expect(await store.keys('o365/')).toEqual(['o365/t1/Audit.Exchange', 'o365/t1/Audit.General']);
    expect(await store.keys('')).toHaveLength(3);
    expect(store.kind).toBe('postgres');
  });

  it('creates the schema with every migration once, even when replicas open it together', async () => {
    const schema = uniqueSchema('migr');
    await Promise.all([open(schema), open(schema), open(schema)]);
    const rows = await pgQuery<{ version: number }>(`SELECT version FROM ${quoteIdent(schema)}.schema_version ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await open(schema);
    expect(await pgQuery(`SELECT version FROM ${quoteIdent(schema)}.schema_version`)).toHaveLength(MIGRATIONS.length);
  });

  it('migrates a schema left at an older version, keeping its data', async () => {
    const schema = uniqueSchema('old');
    schemas.push(schema);
    const s = quoteIdent(schema);
    // What an auditrelay that only knew migration 1 left behind.
    await pgQuery(`CREATE SCHEMA ${s}`);
    await pgQuery(`CREATE TABLE ${s}.schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    for (const statement of MIGRATIONS[0]!.sql(s)) await pgQuery(statement);
    await pgQuery(`INSERT INTO ${s}.schema_version (version, description) VALUES (1, 'v1')`);
    await pgQuery(`INSERT INTO ${s}.state (key, value) VALUES ('k', '{"cursor": 7}')`);
    const store = await open(schema);
    expect(await store.get('k')).toEqual({ cursor: 7 });
    const versions = await pgQuery<{ version: number }>(`SELECT version FROM ${s}.schema_version ORDER BY version`);
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    // Migration 2 is in place: the budget function answers.
    const { rows } = await store.pool.query(`SELECT granted FROM ${store.table('take_tokens')}('k', 5, 2, 1000)`);
    expect(rows[0].granted).toBe(2);
  });

  it('refuses a schema migrated by a newer auditrelay', async () => {
    const schema = uniqueSchema('newer');
    await open(schema);
    await pgQuery(`INSERT INTO ${quoteIdent(schema)}.schema_version (version, description) VALUES ($1, 'from the future')`, [LATEST_VERSION + 1]);
    await expect(PostgresStateStore.open({ url: PG_URL, schema })).rejects.toThrow(/newer than this auditrelay knows/);
  });

  it('refuses a commit whose lease has passed to another replica, and keeps the newer document', async () => {
    const store = await open();
    const key = 'o365/t1/DLP.All';
    await setLease(store, key, 'replica-a', 1);
    await store.put(key, { cursor: 1 }, { owner: 'replica-a', epoch: 1 });
    // replica-a pauses past its lease; replica-b takes the stream over with epoch 2 and commits.
    await setLease(store, key, 'replica-b', 2);
    await store.put(key, { cursor: 5 }, { owner: 'replica-b', epoch: 2 });
    // replica-a resumes and tries to commit what it had: refused, in both directions.
    await expect(store.put(key, { cursor: 3 }, { owner: 'replica-a', epoch: 1 })).rejects.toThrow(FencedError);
    await expect(store.put(key, { cursor: 9 }, { owner: 'replica-a', epoch: 1 })).rejects.toThrow(/no longer holds its lease \(now replica-b at epoch 2\)/);
    // Right owner, old epoch (a restarted replica-b reusing its name) is refused too.
    await expect(store.put(key, { cursor: 4 }, { owner: 'replica-b', epoch: 1 })).rejects.toThrow(FencedError);
    expect(await store.get(key)).toEqual({ cursor: 5 });
    const [row] = await pgQuery<{ owner: string; epoch: string }>(`SELECT owner, epoch FROM ${store.table('state')} WHERE key = $1`, [key]);
    expect(row).toEqual({ owner: 'replica-b', epoch: '2' });
  });

  it('fences a stream\'s completeness ledger with the stream\'s lease: a replica that lost the stream cannot overwrite it', async () => {
    const store = await open();
    const stream = 'google/C1/login';
    await setLease(store, stream, 'replica-a', 1);
    const a = new CompletenessRecorder(store, stream, () => Date.now(), silentLogger());
    await a.load({ owner: 'replica-a', epoch: 1 });
    a.count('listed', Date.now(), 2);
    await a.persist();
    expect(parseCompleteness(await store.get(completenessKey(stream))).hours).not.toEqual({});
    // replica-b takes the stream over, loads the ledger and counts on.
    await setLease(store, stream, 'replica-b', 2);
    const b = new CompletenessRecorder(store, stream, () => Date.now(), silentLogger());
    await b.load({ owner: 'replica-b', epoch: 2 });
    b.count('listed', Date.now(), 5);
    await b.persist();
    // replica-a, resumed, still has counts of its own: refused, never written over b's ledger.
    a.count('listed', Date.now(), 100);
    await a.persist();
    const listed = () => store.get(completenessKey(stream)).then((d) => Object.values(parseCompleteness(d).hours).reduce((n, h) => n + h.listed, 0));
    expect(await listed()).toBe(7);
    // And it stays quiet until it runs the stream again.
    a.count('listed', Date.now(), 100);
    await a.persist();
    expect(await listed()).toBe(7);
    await expect(store.put(completenessKey(stream), {}, { owner: 'replica-a', epoch: 1, stream })).rejects.toThrow(/no longer holds the lease of google\/C1\/login/);
  });

  it('refuses a fenced commit for a stream nobody leased', async () => {
    const store = await open();
    await expect(store.put('never-leased', { x: 1 }, { owner: 'r', epoch: 1 })).rejects.toThrow(/now nobody/);
    expect(await store.get('never-leased')).toBeUndefined();
  });

  it('never shows a password in its location', () => {
    expect(describeConnection('postgres://relay:s3cr3t-pw@db.internal:5433/audit?sslmode=require', 'auditrelay')).toBe(
      'postgres://relay@db.internal:5433/audit schema auditrelay',
    );
    expect(describeConnection(undefined, 'x')).toMatch(/from PG\* variables/);
  });

  it('reports an unreachable server with the location, not the connection string', async () => {
    await expect(PostgresStateStore.open({ url: 'postgres://u:topsecret-pw@127.0.0.1:1/none', schema: 'x' })).rejects.toThrow(
      /^cannot open the postgres state store at postgres:\/\/u@127\.0\.0\.1:1\/none schema x/,
    );
    await PostgresStateStore.open({ url: 'postgres://u:topsecret-pw@127.0.0.1:1/none', schema: 'x' }).catch((err: Error) => {
      expect(err.message).not.toContain('topsecret-pw');
    });
  });
});
