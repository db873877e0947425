import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SharedBudget } from '../../src/scale/budget-postgres.ts';
import { daemonConfig, startInProcess, startWorld, waitFor, type World } from '../support/harness.ts';
import { dropSchemas, PG_URL, uniqueSchema } from '../support/postgres.ts';

const schema = uniqueSchema('budgets');
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});
afterAll(() => dropSchemas(schema));

describe('a replica on postgres', () => {
  it('reports the budgets its streams draw from (the shared ones), not an empty process-local registry', async () => {
    world = await startWorld({ o365: { backlog: '1h', backlogRecords: 200, blobInterval: 0, subscribed: true }, google: { history: 0, eventsPerMinute: 0 } });
    const w = world;
    const daemon = await startInProcess(
      daemonConfig(w, (c) => {
        c.sources.google = [];
        Object.assign(c.state, { kind: 'postgres', url: PG_URL, schema, leaseTtl: 4000, leaseRenewInterval: 1000 });
      }),
    );
    try {
      await waitFor(() => w.sink.uids().length > 0, 60_000, () => 'nothing delivered');
      const budgets = daemon.runner.budgets().all();
      expect(budgets.map((b) => b.key)).toEqual([`o365/${w.emulators.sources.o365.tenantId}`]);
      expect(budgets[0]).toBeInstanceOf(SharedBudget);
      expect(budgets[0]!.usedLastMinute()).toBeGreaterThan(0);
    } finally {
      await daemon.stop(10_000);
    }
  });
});
