import { afterAll, describe, expect, it } from 'vitest';
import { SharedBudget } from '../../src/scale/budget-postgres.ts';
import { PostgresStateStore } from '../../src/state/postgres-store.ts';
import { silentLogger } from '../../src/telemetry/log.ts';
import { dropSchemas, PG_URL, uniqueSchema, waitFor } from '../support/postgres.ts';

const schema = uniqueSchema('budget');
const stores: PostgresStateStore[] = [];
afterAll(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  await dropSchemas(schema);
});

// The budget period is shrunk from a minute to one second so the test sees several periods.
const WINDOW_MS = 1000;
const LIMIT = 20;

/** Three replicas' budgets for one tenant, each with its own connection pool. */
async function replicas(key: string, n = 3): Promise<SharedBudget[]> {
  const out: SharedBudget[] = [];
  for (let i = 0; i < n; i++) {
    const store = await PostgresStateStore.open({ url: PG_URL, schema });
    stores.push(store);
    out.push(new SharedBudget(store, key, LIMIT, silentLogger(), { windowMs: WINDOW_MS, tokenValidityMs: 250 }));
  }
  return out;
}

/** The most request starts seen in any window of `windowMs` (sliding: every start opens a window). */
function maxInAnyWindow(starts: number[], windowMs: number): number {
  const sorted = [...starts].sort((x, y) => x - y);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[j] as number) <= (sorted[i] as number) - windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('request budget shared by replicas', () => {
  it('never starts more than the limit in any window, across three replicas competing for it', async () => {
    const budgets = await replicas('o365/tenant-shared');
    const starts: number[] = [];
    const perReplica = [0, 0, 0];
    const jobs = budgets.flatMap((budget, r) =>
      Array.from({ length: 25 }, (_, i) =>
        budget.schedule(
          async () => {
            starts.push(performance.timeOrigin + performance.now());
            perReplica[r]!++;
            // Some requests take a while, as real ones do.
            await new Promise((resolve) => setTimeout(resolve, i % 5 === 0 ? 30 : 1));
            return i;
          },
          { priority: i % 3 },
        ),
      ),
    );
    const results = await Promise.all(jobs);
    expect(results).toHaveLength(75);
    expect(maxInAnyWindow(starts, WINDOW_MS)).toBeLessThanOrEqual(LIMIT);
    // Every replica got requests through (none starved), and the limit was actually reached.
    expect(perReplica.every((n) => n === 25)).toBe(true);
    expect(maxInAnyWindow(starts, WINDOW_MS)).toBeGreaterThan(LIMIT / 2);
    expect(budgets.reduce((n, b) => n + b.usedLastMinute(), 0)).toBe(75);
  });

  it("holds every replica when one of them is throttled", async () => {
    const [a, b] = await replicas('o365/tenant-throttled', 2);
    const heldAt = Date.now();
    a!.holdFor(1500);
    // The hold is shared through the database: wait until it is written.
    const store = stores.at(-1)!;
    await waitFor('hold written', async () => {
      const { rows } = await store.pool.query(`SELECT hold_until > clock_timestamp() AS held FROM ${store.table('budgets')} WHERE key = $1`, ['o365/tenant-throttled']);
      return rows[0]?.held ? true : undefined;
    });
    const startedAt = await b!.schedule(async () => Date.now());
    expect(startedAt).toBeGreaterThanOrEqual(heldAt + 1500);
    expect(a!.heldForMs()).toBe(0);
  });

  it('drops a waiting request whose signal aborts, without spending a token on it', async () => {
    const [budget] = await replicas('o365/tenant-abort', 1);
    // Use up the window, then queue one more and abort it.
    await Promise.all(Array.from({ length: LIMIT }, () => budget!.schedule(async () => undefined)));
    const abort = new AbortController();
    let ran = false;
    const waiting = budget!.schedule(async () => {
      ran = true;
    }, { signal: abort.signal });
    abort.abort(new Error('stream stopped'));
    await expect(waiting).rejects.toThrow('stream stopped');
    expect(ran).toBe(false);
    expect(await budget!.schedule(async () => 'next')).toBe('next');
  });
});
